import { ErrorCode, IpcStateError } from '@ipc-state/protocol'
import {
  ClientMessageType,
  FRAME_DELIMITER,
  ServerMessageType,
  decodeServerMessage,
  type ServerMessage,
} from '@ipc-state/protocol/wire'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { MemoryBudget } from './memory-budget.js'
import { Session, encodeErrorResponse, encodeProtocolError } from './session.js'
import { StateFrames } from './state-frames.js'
import { call, sayHello, startTestServer } from '../../test/test-helpers.js'
import type { TransportConnection } from '../transport/transport.js'

afterEach(() => {
  vi.useRealTimers()
  vi.restoreAllMocks()
})

const decode = (frame: string): ServerMessage => {
  const decoded = decodeServerMessage(frame.slice(0, -FRAME_DELIMITER.length))
  if (!decoded.ok) throw decoded.error
  return decoded.message
}

/** A session over a connection that records what is written to it. */
function recordedSession() {
  const written: string[] = []
  const connection: TransportConnection = {
    write: (bytes) => written.push(Buffer.from(bytes).toString('utf8')) > 0,
    bufferedBytes: 0,
    end() {},
    destroy() {},
  }
  const budget = new MemoryBudget({ maxTotalBufferedBytes: 1e9, maxTotalPendingBytes: 1e9 })
  const session = new Session(connection, {
    maxFrameBytes: 1e6,
    maxBufferedBytes: 1e6,
    frameTimeout: 1_000,
    handshakeTimeout: Number.POSITIVE_INFINITY,
    budget,
    logger: {},
    flushGathered() {},
    onEnd() {},
  })
  return { session, written }
}

describe('encoding that cannot fail', () => {
  it('answers a result that cannot be encoded with INTERNAL_ERROR instead of throwing', () => {
    const { session, written } = recordedSession()
    session.respond(3, { count: 1n })
    expect(decode(written[0]!)).toMatchObject({
      type: ServerMessageType.Response,
      data: {
        id: 3,
        error: { code: ErrorCode.INTERNAL_ERROR, message: expect.stringMatching(/request 3 could not be encoded.*BigInt/) },
      },
    })
  })

  it('bounds an error: its message cut, its details left out when too large or not JSON', () => {
    const long = new IpcStateError(ErrorCode.BAD_ARGUMENTS, 'm'.repeat(1_000_000), { data: { list: 'd'.repeat(1_000_000) } })
    const answer = decode(encodeErrorResponse(1, long)).data as { error: { message: string; data?: unknown } }
    expect(answer.error.message.length).toBeLessThan(2_100)
    expect(answer.error.message).toMatch(/details left out: \d+ characters\)$/)
    expect(answer.error.data).toBeUndefined()
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    const odd = new IpcStateError(ErrorCode.ACTION_FAILED, 'odd', { data: { cyclic, n: 1n } })
    expect(decode(encodeProtocolError(odd, true)).data).toMatchObject({
      fatal: true,
      error: { code: ErrorCode.ACTION_FAILED, message: expect.stringMatching(/^odd \(details left out: /) },
    })
    const small = new IpcStateError(ErrorCode.BAD_ARGUMENTS, 'ok', { data: { issues: [1] } })
    expect(decode(encodeErrorResponse(2, small)).data).toEqual({
      id: 2,
      error: { code: 'BAD_ARGUMENTS', message: 'ok', data: { issues: [1] } },
    })
  })

  it('answers a snapshot that cannot be encoded with an error, and keeps serving', async () => {
    await using t = await startTestServer()
    vi.spyOn(StateFrames.prototype, 'frame').mockImplementation(() => {
      throw new IpcStateError(ErrorCode.INTERNAL_ERROR, 'The state at version 0 could not be encoded: test')
    })
    const replica = await t.connect()
    expect((await sayHello(replica, { clientId: 'r', replica: true })).error?.code).toBe(ErrorCode.INTERNAL_ERROR)
    const { peer } = await t.greet({ clientId: 'w' })
    peer.send({ type: ClientMessageType.StateGet, data: { id: 1 } })
    expect((await peer.response(1)).error?.message).toContain('could not be encoded')
    peer.write(JSON.stringify({ type: ClientMessageType.SeedGetSharedData }) + FRAME_DELIMITER)
    const seed = await peer.waitFor((m) => m.type === ServerMessageType.ProtocolError)
    expect(seed.data).toMatchObject({ fatal: false, error: { code: ErrorCode.INTERNAL_ERROR } })
    expect((await call(peer, 2, 'increment', 1)).result).toEqual({ value: 1, version: 1 })
    // The replica that was not greeted may say hello again.
    vi.restoreAllMocks()
    expect((await sayHello(replica, { id: 1, clientId: 'r', replica: true })).result).toMatchObject({ version: 1 })
  })

  it('answers anything a request throws inside the server with INTERNAL_ERROR, and keeps serving', async () => {
    await using t = await startTestServer()
    const peer = await t.connect()
    vi.spyOn(Session.prototype, 'respond').mockImplementationOnce(() => {
      throw new RangeError('Invalid string length')
    })
    sayHello(peer, { clientId: 'w' }).catch(() => {})
    const error = await peer.waitFor((m) => m.type === ServerMessageType.ProtocolError)
    expect(error.data).toMatchObject({
      fatal: false,
      error: { code: ErrorCode.INTERNAL_ERROR, message: expect.stringContaining('Invalid string length') },
    })
    expect((await call(peer, 2, 'increment', 1)).result).toEqual({ value: 1, version: 1 })
  })
})

describe('closing', () => {
  it('still delivers, on a graceful close, what waited behind a peer that was not reading', async () => {
    const t = await startTestServer()
    const { peer: replica } = await t.greet({ clientId: 'replica', replica: true })
    const { peer: writer } = await t.greet({ clientId: 'writer' })
    replica.pause()
    // 40 changes of 1 kB: more than a socket takes before it asks to wait.
    for (let id = 1; id <= 40; id++) await call(writer, id, 'append', 'w'.repeat(1_000))
    const closing = t.server.close()
    replica.resume()
    await closing
    const changes = replica.messages.filter((m) => m.type === ServerMessageType.StateChanged)
    expect(changes.map((m) => (m.data as { version: number }).version)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1))
    expect(replica.messages.at(-1)?.type).toBe(ServerMessageType.ServerClosing)
  })
})

describe('frameTimeout', () => {
  const partial = (id: number) => `{"type":"action/call","data":{"id":${id},"action":"increment","input":`

  it('refuses a connection that leaves a frame unfinished past frameTimeout, with TIMEOUT', async () => {
    vi.useFakeTimers()
    await using t = await startTestServer({ frameTimeout: 1_000 })
    const { peer } = await t.greet({ clientId: 'slow' })
    const { peer: other } = await t.greet({ clientId: 'other' })
    peer.write(partial(1))
    await vi.advanceTimersByTimeAsync(999)
    expect(peer.isClosed).toBe(false)
    await vi.advanceTimersByTimeAsync(2)
    await peer.closed
    expect(peer.messages.at(-1)).toMatchObject({
      type: ServerMessageType.ProtocolError,
      data: { fatal: true, error: { code: ErrorCode.TIMEOUT, message: expect.stringContaining('option frameTimeout') } },
    })
    expect((await call(other, 1, 'increment', 1)).result).toEqual({ value: 1, version: 1 })
  })

  it('times each frame from its own start, and leaves connections between frames alone', async () => {
    vi.useFakeTimers()
    await using t = await startTestServer({ frameTimeout: 1_000 })
    const { peer } = await t.greet()
    peer.write(partial(1))
    await vi.advanceTimersByTimeAsync(800)
    // The first frame ends and a second begins in the same write: the second gets its own second.
    peer.write(`1}}${FRAME_DELIMITER}${partial(2)}`)
    await vi.advanceTimersByTimeAsync(800)
    expect(peer.isClosed).toBe(false)
    peer.write(`2}}${FRAME_DELIMITER}`)
    expect((await peer.response(2)).result).toEqual({ value: 3, version: 2 })
    await vi.advanceTimersByTimeAsync(10_000)
    expect(peer.isClosed).toBe(false)
  })
})

describe('handshakeTimeout', () => {
  it('closes a connection that sends no complete frame in time, with TIMEOUT, and serves the others', async () => {
    vi.useFakeTimers()
    await using t = await startTestServer({ handshakeTimeout: 1_000 })
    const silent = await t.connect()
    const { peer: other } = await t.greet({ clientId: 'other' })
    await vi.advanceTimersByTimeAsync(999)
    expect(silent.isClosed).toBe(false)
    await vi.advanceTimersByTimeAsync(2)
    await silent.closed
    expect(silent.messages.at(-1)).toMatchObject({
      type: ServerMessageType.ProtocolError,
      data: { fatal: true, error: { code: ErrorCode.TIMEOUT, message: expect.stringContaining('option handshakeTimeout') } },
    })
    expect((await call(other, 1, 'increment', 1)).result).toEqual({ value: 1, version: 1 })
  })

  it('leaves alone a plain node-ipc client whose first frame is getSharedData, and one that greeted', async () => {
    vi.useFakeTimers()
    await using t = await startTestServer({ handshakeTimeout: 1_000 })
    const seed = await t.connect()
    seed.send({ type: ClientMessageType.SeedGetSharedData, data: undefined })
    await seed.waitFor((message) => message.type === ServerMessageType.SeedSharedData)
    const { peer } = await t.greet()
    await vi.advanceTimersByTimeAsync(5_000)
    expect(seed.isClosed).toBe(false)
    expect(peer.isClosed).toBe(false)
  })

  it('a refused frame does not stop the clock: garbage, and a request before hello, are closed as silence is', async () => {
    vi.useFakeTimers()
    await using t = await startTestServer({ handshakeTimeout: 1_000 })
    const garbage = await t.connect()
    garbage.write(`not json${FRAME_DELIMITER}`)
    await garbage.waitFor((message) => message.type === ServerMessageType.ProtocolError)
    const early = await t.connect()
    early.send({ type: ClientMessageType.StateGet, data: { id: 1 } })
    expect((await early.response(1)).error?.code).toBe(ErrorCode.BAD_REQUEST)
    const { peer: greeted } = await t.greet()
    await vi.advanceTimersByTimeAsync(500)
    // More garbage on the way changes nothing either.
    garbage.write(`{"type":"nope"}${FRAME_DELIMITER}`)
    await vi.advanceTimersByTimeAsync(501)
    for (const peer of [garbage, early]) {
      await peer.closed
      expect(peer.messages.at(-1)).toMatchObject({
        type: ServerMessageType.ProtocolError,
        data: { fatal: true, error: { code: ErrorCode.TIMEOUT, message: expect.stringContaining('option handshakeTimeout') } },
      })
    }
    expect(greeted.isClosed).toBe(false)
    expect(t.server.connectionCount).toBe(1)
  })

  it('counts only a complete frame: half a hello does not stop the clock', async () => {
    vi.useFakeTimers()
    await using t = await startTestServer({ handshakeTimeout: 1_000, frameTimeout: 10_000 })
    const peer = await t.connect()
    peer.write('{"type":"hello","data":{"id":0,')
    await vi.advanceTimersByTimeAsync(1_001)
    await peer.closed
    expect(peer.messages.at(-1)).toMatchObject({ data: { error: { message: expect.stringContaining('option handshakeTimeout') } } })
  })
})
