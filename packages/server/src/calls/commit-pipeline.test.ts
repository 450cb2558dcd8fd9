import { describe, expect, it } from 'vitest'
import { ErrorCode, IpcStateError } from '@ipc-state/protocol'
import { ClientMessageType } from '@ipc-state/protocol/wire'
import { CommitPipeline } from './commit-pipeline.js'
import type { Storage, StorageEntry, WriteConflict } from '../storage/storage.js'
import { call, send, startTestServer } from '../../test/test-helpers.js'

/** A storage whose writes the test settles one by one, in any order; it keeps what was written. */
function heldStorage(writesAtOnce?: () => number) {
  const writes: { entries: readonly StorageEntry[]; settle(error?: Error | WriteConflict): void }[] = []
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
      new Promise<undefined | WriteConflict>((resolve, reject) => {
        writes.push({
          entries,
          settle: (outcome) => {
            if (outcome instanceof Error) return reject(outcome)
            if (outcome !== undefined) return resolve(outcome)
            stored.push(...entries)
            resolve(undefined)
          },
        })
      }),
    close: async () => {},
    ...(writesAtOnce && { writesAtOnce }),
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

describe('CommitPipeline, with several writes under way', () => {
  /** A pipeline over a held storage that takes `atOnce` writes at once, recording what each step met. */
  function pipelined(atOnce: () => number) {
    const held = heldStorage(atOnce)
    const events: string[] = []
    const pipeline = new CommitPipeline(held.storage, {
      logger: {},
      rolledBack: (error) => events.push(`rolled back: ${error.code}`),
      caughtUp: () => events.push('caught up'),
    })
    /** Adds the step of change `version`, and a read behind it, in their own tick. */
    const batch = async (version: number) => {
      pipeline.add(
        change(version),
        () => events.push(`delivered ${version}`),
        (error) => events.push(`${version}: ${error.code}`),
        () => events.push(`rerun ${version}`),
      )
      pipeline.add(
        undefined,
        () => events.push(`read after ${version}`),
        (error) => events.push(`read after ${version}: ${error.code}`),
        () => events.push(`rerun read after ${version}`),
      )
      await turn()
    }
    return { ...held, events, pipeline, batch }
  }

  it('hands each batch to the storage while earlier ones are under way, and delivers them in order however they settle', async () => {
    const { writes, events, pipeline, batch } = pipelined(() => 3)
    await batch(1)
    await batch(2)
    await batch(3)
    await batch(4)
    // At most three under way: the fourth gathers.
    expect(writes.map((write) => write.entries.map((entry) => entry.kind === 'change' && entry.version))).toEqual([[1], [2], [3]])
    writes[2]!.settle()
    writes[1]!.settle()
    await turn()
    expect(events).toEqual([])
    expect(writes).toHaveLength(3)
    writes[0]!.settle()
    await turn()
    expect(events).toEqual(['delivered 1', 'read after 1', 'delivered 2', 'read after 2', 'delivered 3', 'read after 3'])
    expect(writes).toHaveLength(4)
    writes[3]!.settle()
    await pipeline.whenIdle()
    expect(events.slice(6)).toEqual(['delivered 4', 'read after 4'])
  })

  it('writes alone when the storage answers 1: once every earlier batch was delivered', async () => {
    let atOnce = 2
    const { writes, events, pipeline, batch } = pipelined(() => atOnce)
    await batch(1)
    await batch(2)
    expect(writes).toHaveLength(2)
    atOnce = 1
    await batch(3)
    writes[0]!.settle()
    await turn()
    expect(writes).toHaveLength(2)
    writes[1]!.settle()
    await turn()
    expect(events).toEqual(['delivered 1', 'read after 1', 'delivered 2', 'read after 2'])
    expect(writes).toHaveLength(3)
    writes[2]!.settle()
    await pipeline.whenIdle()
    expect(events.slice(4)).toEqual(['delivered 3', 'read after 3'])
  })

  it('fails a failed middle batch and every later one, whatever they met, after delivering the earlier one and rolling back once', async () => {
    const { writes, events, pipeline, batch } = pipelined(() => 4)
    await batch(1)
    await batch(2)
    await batch(3)
    await batch(4)
    expect(writes).toHaveLength(4)
    // The batch after the failed one settles first, and fine: it was still made on top of it.
    writes[2]!.settle()
    writes[1]!.settle(Object.assign(new Error('input/output error'), { code: 'EIO' }))
    await turn()
    expect(events).toEqual([])
    writes[0]!.settle()
    await turn()
    writes[3]!.settle()
    await pipeline.whenIdle()
    expect(events).toEqual([
      'delivered 1',
      'read after 1',
      `rolled back: ${ErrorCode.PERSIST_FAILED}`,
      `2: ${ErrorCode.PERSIST_FAILED}`,
      `read after 2: ${ErrorCode.PERSIST_FAILED}`,
      `3: ${ErrorCode.PERSIST_FAILED}`,
      `read after 3: ${ErrorCode.PERSIST_FAILED}`,
      `4: ${ErrorCode.PERSIST_FAILED}`,
      `read after 4: ${ErrorCode.PERSIST_FAILED}`,
    ])
  })

  it('makes a refused middle batch and every later one again, in order, after catching up once', async () => {
    const { writes, events, pipeline, batch } = pipelined(() => 4)
    await batch(1)
    await batch(2)
    await batch(3)
    await batch(4)
    // The storage refuses every write after the refused one: they were made on top of it.
    writes[3]!.settle({ conflict: true })
    writes[1]!.settle({ conflict: true })
    writes[0]!.settle()
    await turn()
    writes[2]!.settle({ conflict: true })
    await pipeline.whenIdle()
    expect(events).toEqual([
      'delivered 1',
      'read after 1',
      'caught up',
      'rerun 2',
      'rerun read after 2',
      'rerun 3',
      'rerun read after 3',
      'rerun 4',
      'rerun read after 4',
    ])
    expect(writes).toHaveLength(4)
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
