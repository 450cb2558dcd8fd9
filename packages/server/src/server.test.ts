import { ErrorCode, defineStore, type Logger } from '@ipc-state/protocol'
import { ServerMessageType } from '@ipc-state/protocol/wire'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createMemoryTransport } from '../test/memory-transport.js'
import { parseServerOptions } from './server-settings.js'
import { startServer } from './server.js'
import { call, send, startTestServer } from '../test/test-helpers.js'

afterEach(() => {
  vi.useRealTimers()
})

describe('close()', () => {
  it('lets queued actions finish, refuses anything new meanwhile, then tells every client and closes', async () => {
    const t = await startTestServer()
    const { peer: caller } = await t.greet({ clientId: 'caller' })
    const { peer: replica } = await t.greet({ clientId: 'replica', replica: true })
    send(caller, 1, 'checked', 'queued')
    send(caller, 2, 'increment', 1)
    await vi.waitFor(() => expect(t.gate.pending).toHaveLength(1))
    const closing = t.server.close()

    // While the queue drains: a new call is refused, and so is a new connection.
    expect((await call(replica, 1, 'increment', 1)).error).toMatchObject({ code: ErrorCode.SERVER_CLOSING })
    const late = await t.connect()
    await late.closed
    expect(late.messages[0]).toMatchObject({
      type: ServerMessageType.ProtocolError,
      data: { fatal: true, error: { code: ErrorCode.SERVER_CLOSING } },
    })

    t.gate.pass('queued')
    await closing
    expect((await caller.response(1)).result).toEqual({ value: 1, version: 1 })
    expect((await caller.response(2)).result).toEqual({ value: 1, version: 2 })
    for (const peer of [caller, replica]) {
      expect(peer.isClosed).toBe(true)
      expect(peer.messages.at(-1)).toEqual({
        type: ServerMessageType.ServerClosing,
        data: { reason: `The server at ${t.server.path} is closing` },
      })
    }
    expect(t.server.connectionCount).toBe(0)
    await expect(t.connect()).rejects.toThrow(/ECONNREFUSED/)
  })

  it('returns the same promise from a second close() and from Symbol.asyncDispose', async () => {
    const t = await startTestServer()
    const first = t.server.close()
    expect(t.server.close()).toBe(first)
    expect(t.server[Symbol.asyncDispose]()).toBe(first)
    await first
    expect(t.transport.listening).toBe(false)
  })

  it('waits for a peer that does not read only as long as the close grace', async () => {
    vi.useFakeTimers()
    const t = await startTestServer()
    const { peer } = await t.greet({ replica: true })
    peer.pause()
    let closed = false
    const closing = t.server.close().then(() => (closed = true))
    await vi.advanceTimersByTimeAsync(249)
    expect(closed).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    await closing
    expect(peer.isClosed).toBe(true)
  })
})

describe('startServer', () => {
  it('logs listening and closed, and sorts transport errors: a vanished peer is debug, anything else a warning', async () => {
    const lines: [string, string][] = []
    const logger: Logger = {
      debug: (message) => lines.push(['debug', message]),
      info: (message) => lines.push(['info', message]),
      warn: (message) => lines.push(['warn', message]),
    }
    const transport = createMemoryTransport()
    const store = defineStore({ initialState: { n: 0 }, actions: {} })
    const server = await startServer(parseServerOptions({ store, id: 'logged', logger }), transport)
    transport.emitError(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }))
    transport.emitError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))
    transport.emitError(new Error('something else'))
    await server.close()
    expect(lines).toEqual([
      ['info', 'listening'],
      ['debug', 'connection error'],
      ['debug', 'connection error'],
      ['warn', 'transport error'],
      ['info', 'closed'],
    ])
  })

  it('serves the initial state as JSON carries it, and reports path, epoch and version', async () => {
    const transport = createMemoryTransport()
    const store = defineStore({ initialState: { when: new Date(0), gone: undefined as unknown, n: 1 }, actions: {} })
    await using server = await startServer(parseServerOptions({ store, id: 'json', socketRoot: '/tmp/unit/' }), transport)
    expect(server.state).toStrictEqual({ when: '1970-01-01T00:00:00.000Z', n: 1 })
    expect(server.path).toBe('/tmp/unit/app.json')
    expect(server.version).toBe(0)
    expect(server.epoch).toMatch(/^[0-9a-f-]{36}$/)
  })
})

describe('server.actions', () => {
  it("runs the server's own calls in the one order, behind calls queued before them, and sends the change as no client's", async () => {
    await using t = await startTestServer()
    const { peer: caller } = await t.greet({ clientId: 'caller' })
    const { peer: replica } = await t.greet({ clientId: 'replica', replica: true })
    send(caller, 1, 'checked', 'first')
    await vi.waitFor(() => expect(t.gate.pending).toHaveLength(1))
    let answered: number | undefined
    const own = t.server.actions.increment(5).then((value) => {
      answered = value
      return value
    })
    // Behind the call whose input is still being checked: it has not run.
    await Promise.resolve()
    expect([answered, t.server.version]).toEqual([undefined, 0])
    t.gate.pass('first')
    expect(await own).toBe(5)
    expect((await caller.response(1)).result).toMatchObject({ version: 1 })
    expect(t.server.version).toBe(2)
    await vi.waitFor(() => expect(replica.messages.filter((m) => m.type === ServerMessageType.StateChanged)).toHaveLength(2))
    const changes = replica.messages.filter((m) => m.type === ServerMessageType.StateChanged)
    expect(changes[1]).toMatchObject({ data: { version: 2, action: 'increment' } })
    expect(changes[1]!.data).not.toHaveProperty('clientId')
  })

  it('refuses as a client call is refused: an unknown action, a failing one, and once closing', async () => {
    const t = await startTestServer()
    const actions = t.server.actions as unknown as Record<string, (input?: unknown) => Promise<unknown>>
    await expect(actions.nothingLikeThis!()).rejects.toMatchObject({ code: ErrorCode.UNKNOWN_ACTION })
    await expect(t.server.actions.explode()).rejects.toMatchObject({ code: ErrorCode.ACTION_FAILED })
    expect(t.server.version).toBe(0)
    expect((t.server.actions as unknown as { then?: unknown }).then).toBeUndefined()
    await t.server.close()
    await expect(t.server.actions.increment(1)).rejects.toMatchObject({ code: ErrorCode.SERVER_CLOSING })
  })
})
