import { type ChangesListResult, ErrorCode, type ServerInfoResult } from '@ipc-state/protocol'
import {
  ClientMessageType,
  FRAME_DELIMITER,
  PROTOCOL_VERSION,
  SERVER_INFO_MAX_CONNECTIONS,
  ServerMessageType,
  encodeClientMessage,
  type ServerMessage,
} from '@ipc-state/protocol/wire'
import { afterEach, describe, expect, it, vi } from 'vitest'
import type { MemoryPeer } from '../../test/memory-transport.js'
import { call, sayHello, startTestServer } from '../../test/test-helpers.js'

/** The fatal `protocol/error` a refused connection gets last, and its code. */
const fatalCode = (message: ServerMessage | undefined) => {
  expect(message?.type).toBe(ServerMessageType.ProtocolError)
  const data = message!.data as { error: { code: string }; fatal: boolean }
  expect(data.fatal).toBe(true)
  return data.error.code
}

afterEach(() => {
  vi.useRealTimers()
})

describe('handshake', () => {
  it('answers hello with protocol, epoch, version and frame limit, and the state only to a replica', async () => {
    await using t = await startTestServer({ maxFrameBytes: 4096 })
    const replica = await t.greet({ clientId: 'r', replica: true })
    const writer = await t.greet({ clientId: 'w', replica: false })
    const expected = { protocol: PROTOCOL_VERSION, epoch: t.server.epoch, version: 0, maxFrameBytes: 4096 }
    expect(replica.result).toEqual({ ...expected, state: t.server.state })
    expect(writer.result).toEqual(expected)
    expect(t.server.connectionCount).toBe(2)
  })

  it('answers another protocol version with PROTOCOL_MISMATCH, then a fatal protocol/error, and closes', async () => {
    await using t = await startTestServer()
    const peer = await t.connect()
    const answer = await sayHello(peer, { id: 4 }, PROTOCOL_VERSION + 1)
    expect(answer.error).toMatchObject({
      code: ErrorCode.PROTOCOL_MISMATCH,
      data: { client: PROTOCOL_VERSION + 1, server: PROTOCOL_VERSION },
    })
    await peer.closed
    expect(fatalCode(peer.messages[1])).toBe(ErrorCode.PROTOCOL_MISMATCH)
    expect(peer.messages).toHaveLength(2)
    expect(t.server.connectionCount).toBe(0)
  })

  it('reads nothing after refusing a connection, not even frames that came in the same write', async () => {
    await using t = await startTestServer()
    const peer = await t.connect()
    peer.write(
      encodeClientMessage({ type: ClientMessageType.Hello, data: { id: 1, protocol: 0, clientId: 'old', replica: false } }) +
        encodeClientMessage({
          type: ClientMessageType.Hello,
          data: { id: 2, protocol: PROTOCOL_VERSION, clientId: 'old', replica: false },
        }) +
        encodeClientMessage({ type: ClientMessageType.ActionCall, data: { id: 3, action: 'increment', input: 1 } }),
    )
    await peer.closed
    expect(peer.messages.map((m) => m.type)).toEqual([ServerMessageType.Response, ServerMessageType.ProtocolError])
    expect(t.server.version).toBe(0)
  })

  it('answers a second hello with BAD_REQUEST and keeps the first identity', async () => {
    await using t = await startTestServer()
    const { peer } = await t.greet({ clientId: 'first', replica: false })
    const again = await sayHello(peer, { id: 1, clientId: 'second', replica: true })
    expect(again.error).toMatchObject({ code: ErrorCode.BAD_REQUEST, message: '"hello" was already sent on this connection' })
    // Still a writer, not a replica: an applied change reaches it only as the answer.
    expect((await call(peer, 2, 'increment', 1)).result).toEqual({ value: 1, version: 1 })
    expect(peer.messages.filter((m) => m.type === ServerMessageType.StateChanged)).toEqual([])
    expect(peer.isClosed).toBe(false)
  })

  it('answers requests before hello with BAD_REQUEST and applies nothing', async () => {
    await using t = await startTestServer()
    const peer = await t.connect()
    expect((await call(peer, 5, 'increment', 1000)).error?.code).toBe(ErrorCode.BAD_REQUEST)
    peer.send({ type: ClientMessageType.StateGet, data: { id: 6 } })
    expect((await peer.response(6)).error).toMatchObject({
      code: ErrorCode.BAD_REQUEST,
      message: 'Send "hello" before any other request',
    })
    expect(t.server.version).toBe(0)
    // A hello afterwards still works.
    expect((await sayHello(peer, { id: 7 })).result).toMatchObject({ version: 0 })
  })

  it('answers the seed getSharedData with the whole state as sharedData, without a hello', async () => {
    await using t = await startTestServer()
    const { peer: writer } = await t.greet()
    await call(writer, 1, 'append', 'seed')
    const seed = await t.connect()
    seed.write(JSON.stringify({ type: ClientMessageType.SeedGetSharedData }) + FRAME_DELIMITER)
    const shared = await seed.waitFor((m) => m.type === ServerMessageType.SeedSharedData)
    expect(shared.data).toEqual({ counter: 0, log: ['seed'], value: null })
  })

  it('answers state/get with epoch, version and state', async () => {
    await using t = await startTestServer()
    const { peer } = await t.greet()
    await call(peer, 1, 'increment', 3)
    peer.send({ type: ClientMessageType.StateGet, data: { id: 2 } })
    expect((await peer.response(2)).result).toEqual({ epoch: t.server.epoch, version: 1, state: t.server.state })
  })
})

describe('frames', () => {
  it('answers invalid JSON with a non-fatal protocol/error, and the connection keeps serving', async () => {
    await using t = await startTestServer()
    const { peer } = await t.greet()
    peer.write('{"type":"action/call","data":{"id":1,' + FRAME_DELIMITER)
    const error = await peer.waitFor((m) => m.type === ServerMessageType.ProtocolError)
    expect(error.data).toMatchObject({ fatal: false, error: { code: ErrorCode.BAD_REQUEST } })
    expect((await call(peer, 2, 'increment', 1)).result).toEqual({ value: 1, version: 1 })
  })

  it('answers a malformed request that has an id with an error response for that id', async () => {
    await using t = await startTestServer()
    const { peer } = await t.greet()
    peer.write(JSON.stringify({ type: 'action/call', data: { id: 9, action: 42 } }) + FRAME_DELIMITER)
    expect((await peer.response(9)).error?.code).toBe(ErrorCode.BAD_REQUEST)
    peer.write(JSON.stringify({ type: 'no/such/type', data: { id: 10 } }) + FRAME_DELIMITER)
    expect((await peer.response(10)).error?.code).toBe(ErrorCode.BAD_REQUEST)
    expect(peer.isClosed).toBe(false)
  })

  it('answers input nested deeper than maxDepth with BAD_REQUEST and keeps serving', async () => {
    await using t = await startTestServer({ maxDepth: 4 })
    const { peer } = await t.greet()
    expect((await call(peer, 1, 'write', [[[[[1]]]]])).error?.code).toBe(ErrorCode.BAD_REQUEST)
    expect((await call(peer, 2, 'write', [[1]])).result).toEqual({ version: 1 })
  })

  it('refuses a frame past maxFrameBytes with a fatal FRAME_TOO_LARGE and closes; others keep going', async () => {
    await using t = await startTestServer({ maxFrameBytes: 200 })
    const { peer: other } = await t.greet({ clientId: 'other' })
    const { peer } = await t.greet({ clientId: 'big' })
    // Still incomplete: refused while it arrives, before any delimiter.
    peer.write(`{"type":"action/call","data":{"id":1,"action":"append","input":"${'x'.repeat(300)}`)
    await peer.closed
    expect(fatalCode(peer.messages.at(-1))).toBe(ErrorCode.FRAME_TOO_LARGE)
    expect(t.server.connectionCount).toBe(1)
    expect((await call(other, 1, 'increment', 1)).result).toEqual({ value: 1, version: 1 })
  })

  it('reads frames split across writes, and several frames in one write, in order', async () => {
    await using t = await startTestServer()
    const peer = await t.connect()
    const text =
      encodeClientMessage({
        type: ClientMessageType.Hello,
        data: { id: 1, protocol: PROTOCOL_VERSION, clientId: 'split', replica: false },
      }) +
      encodeClientMessage({ type: ClientMessageType.ActionCall, data: { id: 2, action: 'append', input: 'çğ€😀' } }) +
      encodeClientMessage({ type: ClientMessageType.ActionCall, data: { id: 3, action: 'increment', input: 2 } })
    for (let i = 0; i < text.length; i += 7) peer.write(text.slice(i, i + 7))
    expect((await peer.response(3)).result).toEqual({ value: 2, version: 2 })
    expect(peer.messages.map((m) => (m.data as { id: number }).id)).toEqual([1, 2, 3])
    expect(t.server.state.log).toEqual(['çğ€😀'])
  })

  it('skips empty frames without an answer', async () => {
    await using t = await startTestServer()
    const { peer } = await t.greet()
    peer.write(FRAME_DELIMITER.repeat(3))
    expect((await call(peer, 1, 'peek')).result).toEqual({ value: 0, version: 0 })
    expect(peer.messages).toHaveLength(2)
  })

  it('answers an unknown action with UNKNOWN_ACTION and a throwing one with ACTION_FAILED, changing nothing', async () => {
    await using t = await startTestServer()
    const { peer } = await t.greet()
    expect((await call(peer, 1, 'toString')).error?.code).toBe(ErrorCode.UNKNOWN_ACTION)
    // A near miss names what was meant, in the message and in the data.
    expect((await call(peer, 11, 'incremnt', 1)).error).toEqual({
      code: ErrorCode.UNKNOWN_ACTION,
      message: 'The store has no action "incremnt" (did you mean "increment"?)',
      data: { action: 'incremnt', suggestion: 'increment' },
    })
    expect((await call(peer, 12, 'frobnicate')).error).toEqual({
      code: ErrorCode.UNKNOWN_ACTION,
      message: 'The store has no action "frobnicate"',
      data: { action: 'frobnicate' },
    })
    expect((await call(peer, 2, 'explode')).error).toMatchObject({ code: ErrorCode.ACTION_FAILED })
    expect(t.server.state.counter).toBe(0)
    expect(t.server.version).toBe(0)
  })
})

describe('limits', () => {
  it('refuses the connection past maxConnections with a fatal TOO_MANY_CONNECTIONS; a freed slot is reused', async () => {
    await using t = await startTestServer({ maxConnections: 1 })
    const { peer: first } = await t.greet({ clientId: 'first' })
    const second = await t.connect()
    await second.closed
    expect(fatalCode(second.messages[0])).toBe(ErrorCode.TOO_MANY_CONNECTIONS)
    expect(t.server.connectionCount).toBe(1)
    first.close()
    await first.closed
    expect(t.server.connectionCount).toBe(0)
    const { peer: third } = await t.greet({ clientId: 'third' })
    expect((await call(third, 1, 'peek')).result).toEqual({ value: 0, version: 0 })
  })

  it('cuts a replica that stops reading once it is more than maxBufferedBytes behind, with SLOW_CONSUMER', async () => {
    await using t = await startTestServer({ maxBufferedBytes: 1_000 })
    const { peer: slow } = await t.greet({ clientId: 'slow', replica: true })
    const { peer: fast } = await t.greet({ clientId: 'fast', replica: true })
    const { peer: writer } = await t.greet({ clientId: 'writer' })
    slow.pause()
    for (let id = 1; id <= 20; id++) expect((await call(writer, id, 'append', 'y'.repeat(100))).error).toBeUndefined()
    expect(slow.server.bufferedBytes).toBeGreaterThan(1_000)
    expect(t.server.connectionCount).toBe(2)
    // What was queued still arrives, then the reason, then the close.
    slow.resume()
    await slow.closed
    expect(fatalCode(slow.messages.at(-1))).toBe(ErrorCode.SLOW_CONSUMER)
    expect(fast.messages.filter((m) => m.type === ServerMessageType.StateChanged)).toHaveLength(20)
    expect(fast.isClosed).toBe(false)
  })

  it('destroys a refused connection whose peer never reads after the close grace', async () => {
    vi.useFakeTimers()
    await using t = await startTestServer({ maxBufferedBytes: 100 })
    const { peer: slow } = await t.greet({ clientId: 'slow', replica: true })
    const { peer: writer } = await t.greet({ clientId: 'writer' })
    slow.pause()
    for (let id = 1; id <= 5; id++) await call(writer, id, 'append', 'z'.repeat(60))
    expect(t.server.connectionCount).toBe(1)
    expect(slow.isClosed).toBe(false)
    await vi.advanceTimersByTimeAsync(250)
    expect(slow.isClosed).toBe(true)
  })
})

describe('server/info', () => {
  const info = async (peer: MemoryPeer, id: number) => {
    peer.send({ type: ClientMessageType.ServerInfo, data: { id } })
    return peer.response(id)
  }

  it('describes the server, its greeted connections, what it counted and its limits', async () => {
    await using t = await startTestServer({ maxInFlight: 7, maxBufferedBytes: 50_000 })
    const { peer: replica } = await t.greet({ clientId: 'replica', instanceId: 'replica-1', replica: true })
    const { peer: writer } = await t.greet({ clientId: 'writer' })
    await t.connect()
    expect((await call(writer, 1, 'increment', 1)).error).toBeUndefined()
    expect((await call(writer, 2, 'peek')).error).toBeUndefined()
    expect((await call(writer, 3, 'explode')).error?.code).toBe(ErrorCode.ACTION_FAILED)
    // A resend answered from the record is not a call run again.
    expect((await call(writer, 1, 'increment', 1)).result).toEqual({ value: 1, version: 1 })
    const answer = await info(replica, 9)
    expect(answer.error).toBeUndefined()
    const result = answer.result as ServerInfoResult
    expect(result).toEqual({
      protocol: PROTOCOL_VERSION,
      epoch: t.server.epoch,
      version: 1,
      path: t.server.path,
      uptimeMs: expect.any(Number),
      connections: [
        { clientId: 'replica', instanceId: 'replica-1', replica: true, inFlight: 0, queuedBytes: 0 },
        { clientId: 'writer', instanceId: 'writer', replica: false, inFlight: 0, queuedBytes: 0 },
      ],
      connectionCount: 3,
      counters: { calls: 3, changes: 1 },
      actions: [
        { name: 'append', hasInputSchema: false },
        // The gate's schema has no JSON Schema to give.
        { name: 'checked', hasInputSchema: true, inputSchemaOmitted: 'unsupported' },
        { name: 'explode', hasInputSchema: false },
        { name: 'increment', hasInputSchema: false },
        { name: 'peek', hasInputSchema: false },
        { name: 'write', hasInputSchema: false },
        { name: 'writeOdd', hasInputSchema: false },
      ],
      actionCount: 7,
      limits: {
        maxConnections: expect.any(Number),
        maxInFlight: 7,
        maxFrameBytes: expect.any(Number),
        maxBufferedBytes: 50_000,
        maxTotalBufferedBytes: expect.any(Number),
      },
    })
    expect(result.uptimeMs).toBeGreaterThanOrEqual(0)
  })

  it('answers a connection that has not said hello with BAD_REQUEST', async () => {
    await using t = await startTestServer()
    const peer = await t.connect()
    expect((await info(peer, 4)).error).toMatchObject({ code: ErrorCode.BAD_REQUEST })
    expect(peer.isClosed).toBe(false)
  })

  it(`lists at most ${SERVER_INFO_MAX_CONNECTIONS} connections and counts them all`, async () => {
    const extra = 5
    await using t = await startTestServer({ maxConnections: SERVER_INFO_MAX_CONNECTIONS + extra })
    const peers: MemoryPeer[] = []
    for (let i = 0; i < SERVER_INFO_MAX_CONNECTIONS + extra; i++) peers.push((await t.greet({ clientId: `c${i}` })).peer)
    const result = (await info(peers.at(-1)!, 1)).result as ServerInfoResult
    expect(result.connections).toHaveLength(SERVER_INFO_MAX_CONNECTIONS)
    expect(result.connections[0]!.clientId).toBe('c0')
    expect(result.connectionCount).toBe(SERVER_INFO_MAX_CONNECTIONS + extra)
  })
})

describe('changes/list', () => {
  const list = async (peer: MemoryPeer, id: number) => {
    peer.send({ type: ClientMessageType.ChangesList, data: { id } })
    return peer.response(id)
  }

  it('gives the changes published before the reader connected, oldest first, each with its time, action, client and patches', async () => {
    await using t = await startTestServer({ historySize: 2 })
    const { peer: writer } = await t.greet({ clientId: 'writer' })
    const before = Date.now()
    for (const id of [1, 2, 3]) expect((await call(writer, id, 'increment', id)).error).toBeUndefined()
    expect((await call(writer, 4, 'peek')).error).toBeUndefined()
    const { peer: reader } = await t.greet({ clientId: 'reader' })
    const answer = await list(reader, 1)
    expect(answer.error).toBeUndefined()
    const result = answer.result as ChangesListResult
    expect(result).toEqual({
      epoch: t.server.epoch,
      version: 3,
      changes: [
        {
          version: 2,
          at: expect.any(Number),
          action: 'increment',
          clientId: 'writer',
          patches: [{ op: 'replace', path: ['counter'], value: 3 }],
        },
        {
          version: 3,
          at: expect.any(Number),
          action: 'increment',
          clientId: 'writer',
          patches: [{ op: 'replace', path: ['counter'], value: 6 }],
        },
      ],
    })
    for (const change of result.changes) expect(change.at).toBeGreaterThanOrEqual(before)
  })

  it('gives none with historySize 0, and answers a connection that has not said hello with BAD_REQUEST', async () => {
    await using t = await startTestServer({ historySize: 0 })
    const { peer: writer } = await t.greet({ clientId: 'writer' })
    expect((await call(writer, 1, 'increment', 1)).error).toBeUndefined()
    expect((await list(writer, 2)).result).toEqual({ epoch: t.server.epoch, version: 1, changes: [] })
    const stranger = await t.connect()
    expect((await list(stranger, 1)).error).toMatchObject({ code: ErrorCode.BAD_REQUEST })
  })
})
