// Hostile peers in worker threads of their own, each on a message port of one server, beside a worker thread whose client keeps calling.
import { createServer, type MessagePortTransport, messagePortTransport } from '@ipc-state/server'
import { describe, expect, it } from 'vitest'
import { type HostilePortMode, startHostilePortPeer, startPortWorker } from '../src/processes/port-workers.js'
import { testStore } from '../src/stores/test-store.js'

const CALLS = 300
/** Small, so that a peer that never acknowledges reaches it after a few hundred changes. */
const MAX_BUFFERED_BYTES = 64 * 1024
/** Unacknowledged bytes past which the server stops posting to a port (the transport's PORT_HIGH_WATER_BYTES). */
const PORT_MARK = 16 * 1024
/** Short, so that the deadlines are what ends a silent peer, well within the test's time. */
const DEADLINE_MS = 500

const serve = (ports: MessagePortTransport) =>
  createServer({
    store: testStore,
    transport: ports,
    maxBufferedBytes: MAX_BUFFERED_BYTES,
    frameTimeout: DEADLINE_MS,
    handshakeTimeout: DEADLINE_MS,
  })

/**
 * Starts a server on message ports, a well-behaved worker and a hostile peer, runs `meanwhile`
 * until the peer's port is closed, and resolves with what the peer reported then. The worker must
 * finish every call and converge whatever the peer does.
 */
async function beside(
  mode: HostilePortMode,
  meanwhile: (ports: MessagePortTransport, closed: Promise<unknown>) => Promise<void> = async () => {},
) {
  const ports = messagePortTransport()
  const server = await serve(ports)
  try {
    await using good = startPortWorker(ports, { action: 'increment', calls: CALLS, concurrency: 4, tag: 'good' })
    await good.waitFor('connected')
    await using hostile = startHostilePortPeer(ports, mode)
    await hostile.waitFor('posted')
    const closing = hostile.waitFor('closed')
    await meanwhile(ports, closing)
    const closed = await closing
    expect(await good.waitFor('done')).toMatchObject({ acked: CALLS, errors: [] })
    const report = await good.report(server.state.counter, server.version)
    expect(report).toMatchObject({ counter: server.state.counter, version: server.version })
    // Only the well-behaved worker's connection is left.
    await expect.poll(() => server.connectionCount).toBe(1)
    return { closed, messages: server.state.messages.length }
  } finally {
    await server.close()
  }
}

describe('hostile peers on message ports, in threads of their own', () => {
  it('cuts a replica that reads and never acknowledges once what waits for it passes maxBufferedBytes', async () => {
    const { closed, messages } = await beside('never-acknowledges', async (ports, closing) => {
      // Another thread adds messages, about 100 bytes of change each, until the peer is cut.
      await using writer = startPortWorker(ports, { action: 'addMessage', calls: 10_000, concurrency: 8, tag: 'writer' })
      const first = await Promise.race([closing.then(() => 'cut'), writer.waitFor('done').then(() => 'all written')])
      expect(first).toBe('cut')
    })
    // The port took what it was sent up to its 16 KiB mark (and a frame past it), nothing after:
    // the rest waited in the server's queue, which maxBufferedBytes bounds.
    expect(closed.read as number).toBeGreaterThanOrEqual(PORT_MARK)
    expect(closed.read as number).toBeLessThan(PORT_MARK + 4096)
    // Each change is 50 bytes or more: the peer was cut long before the writer's last call.
    expect(messages * 50).toBeLessThan(8 * MAX_BUFFERED_BYTES)
  })

  it.each(['not-bytes', 'acknowledges-too-much'] as const)('cuts a peer whose port breaks the transport: %s', async (mode) => {
    await beside(mode)
  })

  it.each(['unfinished-frame', 'no-hello'] as const)('closes a peer that goes silent (%s) at its deadline', async (mode) => {
    await beside(mode)
  })
})
