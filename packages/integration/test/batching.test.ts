import { mkdtemp, rm } from 'node:fs/promises'
import { Socket } from 'node:net'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { connect } from '@ipc-state/client'
import { encodeClientMessage } from '@ipc-state/protocol/wire'
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
