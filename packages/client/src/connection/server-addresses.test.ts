import { ErrorCode } from '@ipc-state/protocol'
import { ServerMessageType } from '@ipc-state/protocol/wire'
import { describe, expect, it, vi } from 'vitest'
import { type TestServer, type TestStore, createTestServer, nextOf } from '../../test/test-server.js'
import { parseClientOptions } from '../client-options.js'
import { start } from '../connect.js'
import type { IpcStateClient } from '../ipc-state-client.js'

/** A client of servers `a` then `b` (named `/a` and `/b`), retrying at once. */
function connectBoth(a: TestServer, b: TestServer, logger = {}): Promise<IpcStateClient<TestStore>> {
  const settings = parseClientOptions({ retryDelay: () => 0, logger }, '')
  return start<TestStore>(
    [
      { name: '/a', open: (handlers) => a.transport.open('/a', handlers) },
      { name: '/b', open: (handlers) => b.transport.open('/b', handlers) },
    ],
    settings,
    undefined,
  )
}

describe('failover between servers of one store', () => {
  it('moves to the next address when its server is lost, and resends the unanswered call there', async () => {
    const [a, b] = [createTestServer(), createTestServer()]
    await using client = await connectBoth(a, b)
    expect([client.path, b.peers.length]).toEqual(['/a', 0])
    // Server a takes a call and dies before answering it.
    a.intercept = (message) => message.type === 'action/call'
    const calling = client.actions.increment(5)
    const { id } = await nextOf(a.peer, 'action/call')
    const nextPeer = b.nextPeer()
    a.peer.close()
    const peer = await nextPeer
    await expect(calling).resolves.toBe(5)
    expect((await nextOf(peer, 'action/call')).id).toBe(id)
    expect([client.path, client.status, client.state.counter, b.applied.length]).toEqual(['/b', 'connected', 5, 1])
  })

  it('refuses a server at another address that serves another store, and keeps to its own', async () => {
    const [a, b] = [createTestServer(), createTestServer({ epoch: 'another-store' })]
    b.state.counter = 99
    const warn = vi.fn()
    await using client = await connectBoth(a, b, { warn })
    const refused = b.nextPeer()
    const back = a.nextPeer()
    a.peer.close()
    // b greets the client, which drops it and goes back to a.
    await (await refused).closed
    await back
    await vi.waitFor(() => expect(client.status).toBe('connected'))
    expect([client.path, client.epoch, client.state.counter]).toEqual(['/a', 'epoch-1', 0])
    expect(warn).toHaveBeenCalledWith('a server at another address serves another store; trying the next', {
      path: '/b',
      epoch: 'another-store',
      known: 'epoch-1',
    })
  })

  it('takes a new run of the server it was connected to, as a client of a single server does', async () => {
    const a = createTestServer()
    const b = createTestServer({ epoch: 'another-store', attempt: () => 'refuse' })
    await using client = await connectBoth(a, b)
    a.restart({ counter: 3, list: [] }, 'epoch-2')
    const back = a.nextPeer()
    a.peer.close()
    await back
    await vi.waitFor(() => expect(client.epoch).toBe('epoch-2'))
    expect([client.path, client.state.counter, b.transport.attempts.length]).toEqual(['/a', 3, 1])
  })

  it('keeps a replica newer than the server it moved to, and goes on from there without a step back', async () => {
    const [a, b] = [createTestServer(), createTestServer()]
    a.state.counter = 5
    a.version = 5
    // b shares the store, and has not yet followed its last two changes.
    b.state.counter = 3
    b.version = 3
    await using client = await connectBoth(a, b)
    const seen: number[] = []
    client.subscribe((_state, info) => seen.push(info.version))
    const moved = b.nextPeer()
    a.peer.close()
    await moved
    await vi.waitFor(() => expect(client.status).toBe('connected'))
    expect([client.version, client.state.counter]).toEqual([5, 5])
    for (const version of [4, 5, 6]) {
      b.broadcast({
        type: ServerMessageType.StateChanged,
        data: { epoch: 'epoch-1', version, patches: [{ op: 'replace', path: ['counter'], value: version }] },
      })
    }
    await vi.waitFor(() => expect(client.version).toBe(6))
    expect(seen).toEqual([6])
  })

  it('names every address when no attempt reaches any of them', async () => {
    const refuse = { attempt: () => 'refuse' as const }
    const [a, b] = [createTestServer(refuse), createTestServer(refuse)]
    const settings = parseClientOptions({ retryDelay: () => 0, connectAttempts: 4 }, '')
    const connecting = start<TestStore>(
      [
        { name: '/a', open: (handlers) => a.transport.open('/a', handlers) },
        { name: '/b', open: (handlers) => b.transport.open('/b', handlers) },
      ],
      settings,
      undefined,
    )
    await expect(connecting).rejects.toMatchObject({
      code: ErrorCode.SERVER_UNAVAILABLE,
      message: expect.stringContaining('No server answered at /a or /b after 4 attempts'),
    })
    expect([a.transport.attempts.length, b.transport.attempts.length]).toEqual([2, 2])
  })
})
