import { describe, expect, it } from 'vitest'
import { ErrorCode, IpcStateError } from '@ipc-state/protocol'
import { ClientMessageType } from '@ipc-state/protocol/wire'
import { CommitPipeline } from './commit-pipeline.js'
import type { Storage, StorageEntry } from '../storage/storage.js'
import { call, send, startTestServer } from '../../test/test-helpers.js'

/** A storage whose writes the test settles one by one; it keeps what was written. */
function heldStorage() {
  const writes: { entries: readonly StorageEntry[]; settle(error?: Error): void }[] = []
  const stored: StorageEntry[] = []
  const storage: Storage = {
    open: async (context) => ({
      epoch: context.newEpoch,
      storeVersion: context.storeVersion,
      version: 0,
      state: JSON.parse(context.initialStateJson),
      instances: [],
      entries: [],
    }),
    migrate: async () => undefined,
    write: (entries) =>
      new Promise<void>((resolve, reject) => {
        writes.push({
          entries,
          settle: (error) => {
            if (error !== undefined) return reject(error)
            stored.push(...entries)
            resolve()
          },
        })
      }),
    close: async () => {},
  }
  return { storage, writes, stored }
}

const change = (version: number): StorageEntry => ({
  kind: 'change',
  version,
  patchesJson: '[]',
  instanceId: 'i',
  id: version,
  valueJson: undefined,
})

const turn = () => new Promise<void>((resolve) => setImmediate(resolve))

describe('CommitPipeline', () => {
  it('runs every step at once without a storage', () => {
    const pipeline = new CommitPipeline(undefined, { logger: {}, rolledBack: () => {} })
    const done: number[] = []
    pipeline.add(
      change(1),
      () => done.push(1),
      () => {},
    )
    pipeline.add(
      undefined,
      () => done.push(2),
      () => {},
    )
    expect(done).toEqual([1, 2])
  })

  it('writes the steps of one tick together, gathers the next batch behind it, and delivers in order', async () => {
    const { storage, writes } = heldStorage()
    const pipeline = new CommitPipeline(storage, { logger: {}, rolledBack: () => {} })
    const done: string[] = []
    pipeline.add(
      change(1),
      () => done.push('1'),
      () => {},
    )
    pipeline.add(
      undefined,
      () => done.push('read after 1'),
      () => {},
    )
    pipeline.add(
      change(2),
      () => done.push('2'),
      () => {},
    )
    await turn()
    expect(writes.map((write) => write.entries.length)).toEqual([2])
    pipeline.add(
      change(3),
      () => done.push('3'),
      () => {},
    )
    pipeline.add(
      change(4),
      () => done.push('4'),
      () => {},
    )
    await turn()
    expect(writes).toHaveLength(1)
    expect(done).toEqual([])
    writes[0]!.settle()
    await turn()
    expect(done).toEqual(['1', 'read after 1', '2'])
    expect(writes.map((write) => write.entries.length)).toEqual([2, 2])
    writes[1]!.settle()
    await pipeline.whenIdle()
    expect(done).toEqual(['1', 'read after 1', '2', '3', '4'])
  })

  it('fails a failed batch and all gathered behind it with PERSIST_FAILED, after rolling back once', async () => {
    const { storage, writes } = heldStorage()
    const events: string[] = []
    const pipeline = new CommitPipeline(storage, { logger: {}, rolledBack: () => events.push('rolled back') })
    const step = (version: number) =>
      pipeline.add(
        change(version),
        () => events.push(`delivered ${version}`),
        (error) => events.push(`${version}: ${error.code}`),
      )
    step(1)
    await turn()
    step(2)
    writes[0]!.settle(Object.assign(new Error('no space'), { code: 'ENOSPC' }))
    await pipeline.whenIdle()
    expect(events).toEqual(['rolled back', `1: ${ErrorCode.PERSIST_FAILED}`, `2: ${ErrorCode.PERSIST_FAILED}`])
    // The next write is tried afresh.
    step(3)
    await turn()
    writes[1]!.settle()
    await pipeline.whenIdle()
    expect(events.at(-1)).toBe('delivered 3')
  })
})

describe('a server whose storage fails', () => {
  it('answers PERSIST_FAILED, keeps its state at the last stored version, serves reads, and takes calls again', async () => {
    const { storage, writes, stored } = heldStorage()
    const settleAll = async (error?: Error) => {
      for (let i = 0; i < 50 && writes.length === 0; i++) await turn()
      for (const write of writes.splice(0)) write.settle(error)
    }
    await using t = await startTestServer({ storage })
    const greeting = t.greet({ clientId: 'w', instanceId: 'i' })
    await settleAll()
    const { peer } = await greeting
    let answer = call(peer, 1, 'increment', 5)
    await settleAll()
    expect((await answer).result).toEqual({ value: 5, version: 1 })
    answer = call(peer, 2, 'increment', 1)
    send(peer, 3, 'increment', 1)
    await settleAll(new IpcStateError(ErrorCode.PERSIST_FAILED, 'The change could not be written: test'))
    expect((await answer).error?.code).toBe(ErrorCode.PERSIST_FAILED)
    expect((await peer.response(3)).error?.code).toBe(ErrorCode.PERSIST_FAILED)
    expect(t.server.version).toBe(1)
    expect(t.server.state.counter).toBe(5)
    peer.send({ type: ClientMessageType.StateGet, data: { id: 4 } })
    expect((await peer.response(4)).result).toMatchObject({ version: 1, state: { counter: 5 } })
    // Once the storage writes again, the next call builds on the stored state, not on the lost ones.
    answer = call(peer, 5, 'increment', 1)
    await settleAll()
    expect((await answer).result).toEqual({ value: 6, version: 2 })
    expect(stored.filter((entry) => entry.kind === 'change').map((entry) => entry.kind === 'change' && entry.version)).toEqual([
      1, 2,
    ])
  })
})

describe('CommitPipeline, with a storage other servers share', () => {
  it('on a conflict catches up once, then makes every refused step again in order, and writes them afresh', async () => {
    const written: (readonly StorageEntry[])[] = []
    let refuse: (() => void) | undefined
    const storage: Storage = {
      open: async (context) => ({
        epoch: context.newEpoch,
        storeVersion: context.storeVersion,
        version: 0,
        state: JSON.parse(context.initialStateJson),
        instances: [],
        entries: [],
      }),
      migrate: async () => undefined,
      write: async (entries) => {
        written.push(entries)
        // The first write is refused once the test says so: another server wrote version 1 first.
        if (written.length === 1) {
          await new Promise<void>((resolve) => {
            refuse = resolve
          })
          return { conflict: true }
        }
      },
      close: async () => {},
    }
    const events: string[] = []
    const pipeline = new CommitPipeline(storage, {
      logger: {},
      rolledBack: () => events.push('rolled back'),
      caughtUp: () => events.push('caught up'),
    })
    const step = (version: number) =>
      pipeline.add(
        change(version),
        () => events.push(`delivered ${version}`),
        (error) => events.push(`${version}: ${error.code}`),
        () => {
          events.push(`rerun ${version}`)
          // Made again on top of the changes caught up with: one version further.
          pipeline.add(
            change(version + 1),
            () => events.push(`delivered ${version + 1}`),
            () => {},
          )
        },
      )
    step(1)
    pipeline.add(
      { kind: 'instance', instanceId: 'i', since: 0 },
      () => events.push('instance stored'),
      () => {},
    )
    await turn()
    // Gathered behind the write under way: refused with it.
    step(2)
    refuse!()
    await pipeline.whenIdle()
    expect(events).toEqual(['caught up', 'rerun 1', 'rerun 2', 'delivered 2', 'instance stored', 'delivered 3'])
    expect(written.map((entries) => entries.map((entry) => (entry.kind === 'change' ? entry.version : entry.kind)))).toEqual([
      [1, 'instance'],
      [2, 'instance', 3],
    ])
    expect(events).not.toContain('rolled back')
  })
})
