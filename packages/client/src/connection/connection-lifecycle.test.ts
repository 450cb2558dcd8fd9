import { ErrorCode, IpcStateError } from '@ipc-state/protocol'
import { FRAME_DELIMITER, PROTOCOL_VERSION, ServerMessageType, type ServerMessage } from '@ipc-state/protocol/wire'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { ClientStatus } from '../client-status.js'
import { caught, createTestServer, nextOf } from '../../test/test-server.js'

afterEach(() => {
  vi.useRealTimers()
})

describe('connecting and the handshake', () => {
  it('says hello with its ids and resolves once the replica holds the snapshot', async () => {
    const server = createTestServer()
    server.state.counter = 7
    server.version = 3
    await using client = await server.connect({ clientId: 'me' })
    const [hello] = server.peer.received
    expect(hello).toMatchObject({ type: 'hello', data: { id: 1, protocol: PROTOCOL_VERSION, clientId: 'me', replica: true } })
    expect(hello?.type === 'hello' && typeof hello.data.instanceId).toBe('string')
    expect(client.status).toBe('connected')
    expect(client.state).toEqual({ counter: 7, list: [] })
    expect([client.version, client.epoch, client.clientId]).toEqual([3, 'epoch-1', 'me'])
  })

  it('rejects with PROTOCOL_MISMATCH at once, without retrying', async () => {
    const server = createTestServer()
    server.intercept = (message, peer) => {
      if (message.type !== 'hello') return false
      peer.send({
        type: ServerMessageType.Response,
        data: { id: message.data.id, error: { code: ErrorCode.PROTOCOL_MISMATCH, message: 'server speaks 99' } },
      })
      return true
    }
    const error = await caught(server.connect({ connectAttempts: 5 }))
    expect(error).toMatchObject({ code: ErrorCode.PROTOCOL_MISMATCH, message: 'server speaks 99' })
    expect(server.transport.attempts).toHaveLength(1)
    await server.peer.closed
  })

  it.each([
    ['an empty result', {}, 'protocol undefined'],
    ['no epoch', { protocol: PROTOCOL_VERSION, version: 0, state: {} }, 'no epoch'],
    ['a result that is not an object', null, 'not an object'],
    ['another protocol', { protocol: 99, epoch: 'e', version: 0, state: {} }, 'protocol 99'],
    ['a negative version', { protocol: PROTOCOL_VERSION, epoch: 'e', version: -1, state: {} }, 'version -1'],
    ['no state for a replica', { protocol: PROTOCOL_VERSION, epoch: 'e', version: 0 }, 'no state'],
    ['a bad frame limit', { protocol: PROTOCOL_VERSION, epoch: 'e', version: 0, state: {}, maxFrameBytes: 0 }, 'frame limit'],
  ])('refuses to connect, at once, to a server whose hello answer is %s', async (_label, result, problem) => {
    const error = vi.fn()
    const server = createTestServer()
    server.intercept = (message, peer) => {
      if (message.type !== 'hello') return false
      peer.send({ type: ServerMessageType.Response, data: { id: message.data.id, result } })
      return true
    }
    const refused = await caught(server.connect({ connectAttempts: 5, logger: { error } }))
    expect(refused.code).toBe(ErrorCode.BAD_REQUEST)
    expect(refused.message).toContain('/tmp/test.memory answered the handshake with')
    expect(refused.message).toContain(problem)
    expect(error).toHaveBeenCalledWith('the server answered the handshake with a malformed result', { reason: expect.any(String) })
    expect(server.transport.attempts).toHaveLength(1)
    await server.peer.closed
  })

  it('counts a server that never answers the handshake as a failed attempt', async () => {
    vi.useFakeTimers()
    const server = createTestServer()
    server.intercept = (message) => message.type === 'hello' && server.peers.length === 1
    const connecting = server.connect({ timeout: 1000, connectAttempts: 2 })
    await vi.advanceTimersByTimeAsync(999)
    expect(server.peers).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1) // the handshake's timeout
    await vi.advanceTimersByTimeAsync(1) // the retry
    await using client = await connecting
    expect(server.peers[0]!.ended).toBe(true)
    expect(server.transport.attempts).toHaveLength(2)
    expect(client.status).toBe('connected')
  })

  it('gives up after connectAttempts with SERVER_UNAVAILABLE, naming the last error', async () => {
    const retryDelay = vi.fn(() => 0)
    const server = createTestServer({ attempt: () => 'refuse' })
    const error = await caught(server.connect({ connectAttempts: 3, retryDelay }))
    expect(error.code).toBe(ErrorCode.SERVER_UNAVAILABLE)
    expect(error.message).toBe(
      'No server answered at /tmp/test.memory after 3 attempts (option connectAttempts): connect ECONNREFUSED /tmp/test.memory',
    )
    expect(error.cause).toBeInstanceOf(Error)
    expect(retryDelay.mock.calls).toEqual([[0], [1]])
  })

  it("rejects with FOREIGN_SERVER at once, without retrying, when the socket is another user's", async () => {
    const foreign = new IpcStateError(ErrorCode.FOREIGN_SERVER, 'The socket belongs to user 65534')
    const server = createTestServer({
      attempt: (_index, attempt) => {
        attempt.refuse(foreign)
        return 'hang'
      },
    })
    expect(await caught(server.connect({ connectAttempts: 5 }))).toBe(foreign)
    expect(server.transport.attempts).toHaveLength(1)
  })

  it('retries a refused handshake other than a protocol mismatch', async () => {
    const server = createTestServer()
    server.intercept = (message, peer) => {
      if (message.type !== 'hello' || server.peers.length > 1) return false
      peer.send({
        type: ServerMessageType.Response,
        data: { id: message.data.id, error: { code: ErrorCode.TOO_MANY_CONNECTIONS, message: 'full' } },
      })
      peer.close()
      return true
    }
    await using client = await server.connect()
    expect(server.transport.attempts).toHaveLength(2)
    expect(client.status).toBe('connected')
  })

  it('calls retryDelay with 0, 1, 2… while the server is not up yet', async () => {
    const retryDelay = vi.fn(() => 1)
    const server = createTestServer({ attempt: (index) => (index < 3 ? 'refuse' : 'accept') })
    await using client = await server.connect({ retryDelay })
    expect(retryDelay.mock.calls).toEqual([[0], [1], [2]])
    expect(client.status).toBe('connected')
  })

  it('stops waiting when the signal aborts, and closes the attempt', async () => {
    const server = createTestServer({ attempt: () => 'hang' })
    const controller = new AbortController()
    const connecting = server.connect({ signal: controller.signal })
    await server.transport.nextAttempt()
    controller.abort(new Error('no more'))
    const error = await caught(connecting)
    expect(error).toMatchObject({ code: ErrorCode.ABORTED, cause: new Error('no more') })
    expect(server.transport.attempts).toHaveLength(1)
  })

  it('rejects at once for a signal that already aborted, without an attempt', async () => {
    const server = createTestServer()
    const error = await caught(server.connect({ signal: AbortSignal.abort() }))
    expect(error.code).toBe(ErrorCode.ABORTED)
    expect(server.transport.attempts).toHaveLength(0)
  })
})

describe('reconnecting', () => {
  it('retries with retryDelay(0), (1), (2) after a loss, and the status says where it is', async () => {
    const retryDelay = vi.fn(() => 0)
    const server = createTestServer({ attempt: (index) => (index >= 1 && index <= 2 ? 'refuse' : 'accept') })
    await using client = await server.connect({ retryDelay })
    const statuses: ClientStatus[] = []
    const stop = client.onStatusChange((status) => statuses.push(status))
    server.peer.close(new Error('reset by peer'))
    const next = await server.nextPeer()
    await vi.waitFor(() => expect(client.status).toBe('connected'))
    expect(retryDelay.mock.calls).toEqual([[0], [1], [2]])
    expect(statuses).toEqual(['reconnecting', 'connected'])
    stop()
    next.close()
    await vi.waitFor(() => expect(client.status).toBe('connected'))
    expect(statuses).toEqual(['reconnecting', 'connected'])
  })

  it('retries at once after a server/closing notice', async () => {
    const retryDelay = vi.fn(() => 60_000)
    const server = createTestServer()
    await using client = await server.connect({ retryDelay })
    server.peer.send({ type: ServerMessageType.ServerClosing, data: { reason: 'restarting' } })
    server.peer.close()
    await server.nextPeer()
    await vi.waitFor(() => expect(client.status).toBe('connected'))
    expect(retryDelay).not.toHaveBeenCalled()
  })

  it('rejects pending calls with CONNECTION_CLOSED once reconnectAttempts are spent, and closes', async () => {
    const server = createTestServer({ attempt: (index) => (index === 0 ? 'accept' : 'refuse') })
    const client = await server.connect({ reconnectAttempts: 2 })
    server.intercept = (message) => message.type === 'action/call'
    const pending = client.actions.increment()
    await nextOf(server.peer, 'action/call')
    server.peer.close()
    const error = await caught(pending)
    expect(error.code).toBe(ErrorCode.CONNECTION_CLOSED)
    expect(error.message).toMatch(/2 attempts to restore it failed \(option reconnectAttempts\): connect ECONNREFUSED/)
    expect(client.status).toBe('closed')
    expect(server.transport.attempts).toHaveLength(3)
  })

  it("stops at once when the socket turns out to be another user's: pending calls reject with FOREIGN_SERVER", async () => {
    const foreign = new IpcStateError(ErrorCode.FOREIGN_SERVER, 'The socket belongs to user 65534')
    const server = createTestServer({
      attempt: (index, attempt) => {
        if (index === 0) return 'accept'
        attempt.refuse(foreign)
        return 'hang'
      },
    })
    const client = await server.connect()
    server.intercept = (message) => message.type === 'action/call'
    const pending = client.actions.increment()
    await nextOf(server.peer, 'action/call')
    server.peer.close()
    expect(await caught(pending)).toBe(foreign)
    expect(client.status).toBe('closed')
    expect(server.transport.attempts).toHaveLength(2)
  })

  it('with reconnectAttempts 0, a lost connection rejects pending calls with CONNECTION_CLOSED', async () => {
    const server = createTestServer()
    const client = await server.connect({ reconnectAttempts: 0 })
    server.intercept = (message) => message.type === 'action/call'
    const pending = client.actions.increment()
    await nextOf(server.peer, 'action/call')
    server.peer.close(new Error('gone'))
    expect(await caught(pending)).toMatchObject({ code: ErrorCode.CONNECTION_CLOSED, cause: new Error('gone') })
    expect(client.status).toBe('closed')
    expect(server.transport.attempts).toHaveLength(1)
  })

  it('reconnects after a frame larger than maxFrameBytes', async () => {
    const server = createTestServer()
    await using client = await server.connect({ maxFrameBytes: 200 })
    server.peer.sendRaw('x'.repeat(300))
    await server.nextPeer()
    await vi.waitFor(() => expect(client.status).toBe('connected'))
    expect(server.peers[0]!.ended).toBe(true)
  })
})

describe('status listeners', () => {
  it('can close the client from inside a listener: no retry follows, and later listeners hear only closed', async () => {
    const server = createTestServer()
    const client = await server.connect()
    const heard: string[] = []
    client.onStatusChange((status) => {
      heard.push(`first:${status}`)
      if (status === 'reconnecting') void client.close()
    })
    client.onStatusChange((status) => heard.push(`second:${status}`))
    server.intercept = (message) => message.type === 'action/call'
    const pending = client.actions.increment()
    await nextOf(server.peer, 'action/call')
    server.peer.close()
    expect((await caught(pending)).code).toBe(ErrorCode.CLIENT_CLOSED)
    expect(heard).toEqual(['first:reconnecting', 'first:closed', 'second:closed'])
    expect(server.transport.attempts).toHaveLength(1)
  })

  it('logs a listener that throws and still tells the others', async () => {
    const error = vi.fn()
    const server = createTestServer()
    await using client = await server.connect({ logger: { error } })
    const heard = vi.fn()
    client.onStatusChange(() => {
      throw new Error('listener bug')
    })
    client.onStatusChange(heard)
    await client.close()
    expect(heard).toHaveBeenCalledWith('closed')
    expect(error).toHaveBeenCalledWith('a status listener threw', { error: 'Error: listener bug' })
  })
})

describe('the replica', () => {
  const change = (epoch: string, version: number, counter: number): ServerMessage => ({
    type: ServerMessageType.StateChanged,
    data: { epoch, version, patches: [{ op: 'replace', path: ['counter'], value: counter }] },
  })

  it('applies changes in version order and tells subscribers', async () => {
    const server = createTestServer()
    await using client = await server.connect()
    const seen: string[] = []
    client.subscribe((state, info) => seen.push(`${info.reason}:${info.version}:${state.counter}`))
    await client.actions.increment()
    await client.actions.push('x')
    expect(client.state).toEqual({ counter: 1, list: ['x'] })
    expect(seen).toEqual(['change:1:1', 'change:2:1'])
    expect(Object.isFrozen(client.state)).toBe(true)
  })

  it('ignores a change it has seen or one from an older server run', async () => {
    const server = createTestServer()
    await using client = await server.connect()
    await client.actions.increment()
    server.peer.send(change('epoch-1', 1, 99))
    server.peer.send(change('epoch-0', 2, 99))
    expect(await client.getState()).toMatchObject({ counter: 1 }) // a round trip: both arrived before its answer
    expect([client.version, client.state.counter]).toEqual([1, 1])
    expect(server.peer.received.map((message) => message.type)).toEqual(['hello', 'action/call', 'state/get'])
  })

  it('resyncs through state/get after a gap', async () => {
    const server = createTestServer()
    await using client = await server.connect()
    server.state.counter = 3
    server.version = 3
    server.peer.send(change('epoch-1', 3, 3)) // versions 1 and 2 never came
    expect(await nextOf(server.peer, 'state/get')).toEqual({ id: 2 })
    await vi.waitFor(() => expect(client.version).toBe(3))
    expect(client.state.counter).toBe(3)
  })

  it('resyncs after a change that does not decode', async () => {
    const warn = vi.fn()
    const server = createTestServer()
    await using client = await server.connect({ logger: { warn } })
    server.state.counter = 1
    server.version = 1
    server.peer.sendRaw(
      `{"type":"state/changed","data":{"epoch":"epoch-1","version":1,"patches":[{"op":"move"}]}}${FRAME_DELIMITER}`,
    )
    await nextOf(server.peer, 'state/get')
    await vi.waitFor(() => expect(client.version).toBe(1))
    expect(warn).toHaveBeenCalledWith('the server sent a frame that does not decode', {
      reason: '"state/changed" has malformed "patches"',
    })
  })

  it('reconnects when the server refuses the snapshot of a resync', async () => {
    const server = createTestServer()
    await using client = await server.connect()
    server.intercept = (message, peer) => {
      if (message.type !== 'state/get') return false
      peer.send({
        type: ServerMessageType.Response,
        data: { id: message.data.id, error: { code: ErrorCode.INTERNAL_ERROR, message: 'no' } },
      })
      server.intercept = undefined
      return true
    }
    server.version = 2
    server.peer.send(change('epoch-1', 2, 0))
    await server.nextPeer()
    await vi.waitFor(() => expect([client.status, client.version]).toEqual(['connected', 2]))
  })

  it('refuses a resync snapshot older than the replica, keeps the replica as it was, and reconnects', async () => {
    const error = vi.fn()
    const server = createTestServer()
    await using client = await server.connect({ logger: { error } })
    await client.actions.increment(5)
    await client.actions.increment(5)
    const seen: number[] = []
    client.subscribe((_state, info) => seen.push(info.version))
    server.intercept = (message, peer) => {
      if (message.type !== 'state/get') return false
      // The same store, moved back: a server that lies, or is broken.
      peer.send({
        type: ServerMessageType.Response,
        data: { id: message.data.id, result: { epoch: 'epoch-1', version: 1, state: { counter: 5, list: [] } } },
      })
      server.intercept = undefined
      return true
    }
    server.peer.send(change('epoch-1', 4, 99)) // a gap: the client asks for a snapshot
    await server.nextPeer()
    expect(error).toHaveBeenCalledWith('the server sent a snapshot the replica cannot take; reconnecting', {
      reason: expect.stringContaining("older than the replica's 2"),
    })
    await vi.waitFor(() => expect(client.status).toBe('connected'))
    expect([client.version, client.state.counter, seen]).toEqual([2, 10, []])
  })

  it("is replaced by a new server run's state, and subscribers hear reason reset", async () => {
    const server = createTestServer()
    await using client = await server.connect()
    await client.actions.increment(10)
    const reasons: string[] = []
    client.subscribe((_state, info) => reasons.push(info.reason))
    server.restart({ counter: 0, list: ['new'] }, 'epoch-2')
    server.peer.close()
    await server.nextPeer()
    await vi.waitFor(() => expect(client.epoch).toBe('epoch-2'))
    expect(client.state).toEqual({ counter: 0, list: ['new'] })
    expect([client.version, reasons]).toEqual([0, ['reset']])
  })
})
