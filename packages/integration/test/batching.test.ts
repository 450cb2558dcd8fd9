import { mkdtemp, rm } from 'node:fs/promises'
import { Socket } from 'node:net'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { connect } from '@ipc-state/client'
import { applyPatches, deepFreeze } from '@ipc-state/protocol'
import { type ClientMessage, encodeClientMessage } from '@ipc-state/protocol/wire'
import { createServer } from '@ipc-state/server'
import { RawClient } from '../src/peers/raw-client.js'
import { type TestState, testStore } from '../src/stores/test-store.js'

// Frames made in one tick must leave in one write: a system call per frame was most of what a
// busy server and client spent. These count the writes a socket hands to the system (Node's
// `_write` and `_writev`, one each per system call), on real Unix sockets.

const CALLS = 50

/** Whether a server accepted `socket` (Node sets its `server`), rather than it connecting. */
const accepted = (socket: Socket): boolean => (socket as Socket & { server?: unknown }).server != null

/** Counts each socket's writes to the system from now on, by socket. */
function countWrites() {
  const counts = new Map<Socket, number>()
  for (const method of ['_write', '_writev'] as const) {
    const original = (Socket.prototype as unknown as Record<string, (...args: unknown[]) => unknown>)[method]!
    vi.spyOn(Socket.prototype as unknown as Record<string, (...args: unknown[]) => unknown>, method).mockImplementation(function (
      this: Socket,
      ...args: unknown[]
    ) {
      counts.set(this, (counts.get(this) ?? 0) + 1)
      return original.apply(this, args)
    })
  }
  return {
    /** Writes by sockets the server accepted, one count per socket. */
    server: () => [...counts].filter(([socket]) => accepted(socket)).map(([, n]) => n),
    /** Writes by sockets that connected, one count per socket. */
    client: () => [...counts].filter(([socket]) => !accepted(socket)).map(([, n]) => n),
  }
}

let root: string
beforeEach(async () => {
  root = `${await mkdtemp('/tmp/ipcs-batch-')}/`
})
afterEach(async () => {
  vi.restoreAllMocks()
  await rm(root, { recursive: true, force: true })
})

describe('batched writes', () => {
  it('the server answers calls that arrived together, and sends the changes to a replica, in one write each', async () => {
    await using server = await createServer({ store: testStore, socketRoot: root, appspace: 'batch.', id: 'server' })
    await using caller = await RawClient.hello(server.path, { clientId: 'caller' })
    await using replica = await RawClient.hello(server.path, { clientId: 'replica', replica: true })
    const writes = countWrites()
    const calls = Array.from({ length: CALLS }, (_, i) =>
      encodeClientMessage({ type: 'action/call', data: { id: i + 1, action: 'increment', input: 1 } }),
    )
    await caller.write(calls.join(''))
    for (let id = 1; id <= CALLS; id++) expect((await caller.response(id)).data.error).toBeUndefined()
    await replica.waitFor((frame) => frame.type === 'state/changed' && (frame.data as { version: number }).version === CALLS)
    // Two sockets, the caller's and the replica's; the calls may reach the server in a couple of reads.
    const perSocket = writes.server()
    expect(perSocket).toHaveLength(2)
    for (const count of perSocket) expect(count).toBeLessThanOrEqual(3)
    expect(server.state.counter).toBe(CALLS)
  })

  it('a client sends the calls made in one tick in one write', async () => {
    await using server = await createServer({ store: testStore, socketRoot: root, appspace: 'batch.', id: 'server' })
    await using client = await connect<typeof testStore>({ socketRoot: root, appspace: 'batch.', id: 'server' })
    const writes = countWrites()
    const results = await Promise.all(Array.from({ length: CALLS }, () => client.actions.increment(1)))
    expect(new Set(results).size).toBe(CALLS)
    expect(writes.client()).toEqual([1])
    expect(server.version).toBe(CALLS)
    expect((client.state as TestState).counter).toBe(CALLS)
  })
})

describe('batched frames', () => {
  it('calls read together make one change frame with the answers inside; an action throwing among them changes nothing', async () => {
    await using server = await createServer({ store: testStore, socketRoot: root, appspace: 'batch.', id: 'server' })
    await using caller = await RawClient.hello(server.path, { clientId: 'caller', replica: true, batch: true })
    await using watcher = await RawClient.hello(server.path, { clientId: 'watcher', replica: true, batch: true })
    await using older = await RawClient.hello(server.path, { clientId: 'older', replica: true })
    const calls: ClientMessage[] = [
      { type: 'action/call', data: { id: 1, action: 'increment', input: 1 } },
      { type: 'action/call', data: { id: 2, action: 'increment', input: 2 } },
      { type: 'action/call', data: { id: 3, action: 'explode', input: 'in the middle' } },
      { type: 'action/call', data: { id: 4, action: 'addMessage', input: 'kept' } },
      { type: 'action/call', data: { id: 5, action: 'increment', input: 4 } },
    ]
    // One write of a few hundred bytes: the server reads it whole, and applies the calls in one turn.
    await caller.write(calls.map(encodeClientMessage).join(''))
    const failed = await caller.waitFor((frame) => frame.type === 'response' && frame.data.id === 3)
    expect(failed.data.error.code).toBe('ACTION_FAILED')
    await older.waitFor((frame) => frame.type === 'state/changed' && frame.data.version === 4)
    await watcher.waitFor((frame) => frame.type === 'state/changed' && frame.data.version === 4)

    const changes = (client: RawClient) => client.frames.filter((frame) => frame.type === 'state/changed')
    const [change, ...more] = changes(caller)
    expect(more).toEqual([])
    expect(change!.data).toMatchObject({ version: 4, from: 1 })
    // The answers ride in the change that shows them; the failure, which made no version, after it.
    expect(change!.data.answers).toEqual([
      { id: 1, result: { value: 1, version: 1 } },
      { id: 2, result: { value: 3, version: 2 } },
      { id: 4, result: expect.objectContaining({ version: 3 }) },
      { id: 5, result: { value: 7, version: 4 } },
    ])
    expect(caller.frames.indexOf(failed)).toBeGreaterThan(caller.frames.indexOf(change!))
    // Another batched replica gets the same change, without the caller's answers.
    const [shared, ...moreShared] = changes(watcher)
    expect(moreShared).toEqual([])
    expect(shared!.data).toEqual({ ...change!.data, answers: undefined, action: undefined, clientId: 'caller' })
    // A peer that did not offer batches reads one change per version, as it always did.
    expect(changes(older).map((frame) => [frame.data.version, frame.data.from, frame.data.action])).toEqual([
      [1, undefined, 'increment'],
      [2, undefined, 'increment'],
      [3, undefined, 'addMessage'],
      [4, undefined, 'increment'],
    ])
    // The throwing action left nothing behind: the three others' effects and its own none.
    const applied = (client: RawClient) =>
      changes(client).reduce<TestState>(
        (state, frame) => applyPatches(state, frame.data.patches),
        deepFreeze({ counter: 0, messages: [] }) as TestState,
      )
    expect(server.state).toEqual({ counter: 7, messages: [expect.objectContaining({ text: 'kept' })] })
    expect(server.version).toBe(4)
    for (const client of [caller, watcher, older]) expect(applied(client)).toEqual(server.state)
  })
})
