import { ErrorCode } from '@ipc-state/protocol'
import { socketRootWarning } from '@ipc-state/protocol/node'
import { describe, expect, it, vi } from 'vitest'
import * as publicApi from './index.js'
import type { ChangeInfo } from './replica/replica.js'
import type { ClientTransport } from './transport/client-transport.js'
import { caught, createTestServer, nextOf, type TestStore } from '../test/test-server.js'

describe('the client facade', () => {
  it('exports the same names as before, and not the internal entry', () => {
    expect(Object.keys(publicApi).sort()).toEqual(
      [
        'ErrorCode',
        'IpcStateError',
        'RETRYABLE_ERROR_CODES',
        'connect',
        'consoleLogger',
        'exponentialBackoff',
        'isIpcStateError',
        'messagePortTransport',
        'pinoLogger',
        'webSocketTransport',
      ].sort(),
    )
  })

  it('gives each action one bound function, and is not thenable', async () => {
    const server = createTestServer()
    await using client = await server.connect()
    expect(client.actions.increment).toBe(client.actions.increment)
    expect((client.actions as Record<string, unknown>).then).toBeUndefined()
    expect(await client.actions).toBe(client.actions)
    expect(await caught(client.call(7 as never, undefined as never))).toBeInstanceOf(TypeError)
  })

  it('runs a selector subscription only when its value changes, honours equals and immediate, and unsubscribes', async () => {
    const server = createTestServer()
    await using client = await server.connect()
    const counters: [number, number][] = []
    const stop = client.subscribe(
      (state) => state.counter,
      (counter, previous) => counters.push([counter, previous]),
      { immediate: true },
    )
    const lengths: number[] = []
    client.subscribe(
      (state) => ({ length: state.list.length }),
      ({ length }) => lengths.push(length),
      { equals: (a, b) => a.length === b.length },
    )
    await client.actions.push('a')
    await client.actions.increment(2)
    stop()
    await client.actions.increment(1)
    expect(counters).toEqual([
      [0, 0],
      [2, 0],
    ])
    expect(lengths).toEqual([1])
    expect(() => client.subscribe('not a selector' as never, undefined as never)).toThrow(TypeError)
  })

  it('tells listeners which action made each change and which client called it', async () => {
    const server = createTestServer()
    await using client = await server.connect({ clientId: 'me' })
    await using other = await server.connect({ clientId: 'other', replica: false })
    const infos: ChangeInfo[] = []
    client.subscribe((_state, info) => infos.push(info))
    const selected: ChangeInfo[] = []
    client.subscribe(
      (state) => state.list.length,
      (_length, _previous, info) => selected.push(info),
    )
    await client.actions.increment(1)
    await other.actions.push('x')
    await vi.waitFor(() => expect(infos).toHaveLength(2))
    expect(infos).toEqual([
      { reason: 'change', version: 1, from: 1, epoch: 'epoch-1', action: 'increment', clientId: 'me' },
      { reason: 'change', version: 2, from: 2, epoch: 'epoch-1', action: 'push', clientId: 'other' },
    ])
    expect(selected).toEqual([infos[1]])
  })

  it('serverInfo() asks the server to describe itself and resolves with its frozen answer', async () => {
    const server = createTestServer()
    await using client = await server.connect({ clientId: 'me' })
    await client.actions.increment(1)
    const asked = nextOf(server.peer, 'server/info')
    const info = await client.serverInfo()
    expect(await asked).toEqual({ id: expect.any(Number) })
    expect(info).toEqual(server.info())
    expect(info.connections).toEqual([expect.objectContaining({ clientId: 'me', replica: true })])
    expect(info.counters).toEqual({ calls: 1, changes: 1 })
    expect(Object.isFrozen(info.limits)).toBe(true)
  })

  it("serverInfo() rejects with the error the server answers, such as an older server's BAD_REQUEST", async () => {
    const server = createTestServer()
    await using client = await server.connect()
    server.intercept = (message, peer) => {
      if (message.type !== 'server/info') return false
      peer.send({
        type: 'response',
        data: { id: message.data.id, error: { code: ErrorCode.BAD_REQUEST, message: 'Unknown message type "server/info"' } },
      })
      return true
    }
    expect((await caught(client.serverInfo())).code).toBe(ErrorCode.BAD_REQUEST)
  })

  it('recentChanges() asks for the changes the server kept and resolves with its frozen answer', async () => {
    const server = createTestServer()
    await using client = await server.connect()
    const kept = {
      epoch: 'epoch-1',
      version: 2,
      changes: [
        {
          version: 1,
          at: 1_700_000_000_000,
          action: 'increment',
          clientId: 'a',
          patches: [{ op: 'replace', path: ['counter'], value: 1 }],
        },
        { version: 2, at: 1_700_000_000_001, action: 'push', clientId: 'b', patches: [], patchesOmitted: true },
      ],
    }
    server.intercept = (message, peer) => {
      if (message.type !== 'changes/list') return false
      peer.send({ type: 'response', data: { id: message.data.id, result: kept } })
      return true
    }
    const result = await client.recentChanges()
    expect(result).toEqual(kept)
    expect(Object.isFrozen(result.changes[0]!.patches)).toBe(true)
  })

  it.each([
    ['changes out of order', { epoch: 'e', version: 2, changes: [change(2), change(1)] }, 'change 1 without a version above'],
    ['a change without patches', { epoch: 'e', version: 1, changes: [{ ...change(1), patches: undefined }] }, 'malformed patches'],
    [
      'a patch with a bad op',
      { epoch: 'e', version: 1, changes: [{ ...change(1), patches: [{ op: 'eval', path: [] }] }] },
      'malformed patches',
    ],
    ['a change without a time', { epoch: 'e', version: 1, changes: [{ ...change(1), at: 'now' }] }, 'without a time'],
    [
      'more changes than the protocol allows',
      { epoch: 'e', version: 10_001, changes: Array.from({ length: 10_001 }, (_, i) => change(i + 1)) },
      '10001 changes',
    ],
    ['no list', { epoch: 'e', version: 1 }, 'no list of changes'],
  ])("recentChanges() refuses a server's answer with %s as BAD_REQUEST", async (_label, result, problem) => {
    const server = createTestServer()
    await using client = await server.connect()
    server.intercept = (message, peer) => {
      if (message.type !== 'changes/list') return false
      peer.send({ type: 'response', data: { id: message.data.id, result } })
      return true
    }
    const error = await caught(client.recentChanges())
    expect(error.code).toBe(ErrorCode.BAD_REQUEST)
    expect(error.message).toContain(problem)
  })

  it('close() rejects pending calls with CLIENT_CLOSED, ends the connection, and a second close is a no-op', async () => {
    const server = createTestServer()
    const client = await server.connect()
    server.intercept = (message) => message.type !== 'hello'
    const pending = [client.actions.increment(), client.getState()]
    await nextOf(server.peer, 'state/get')
    const closing = client.close()
    expect(client.close()).toBe(closing)
    expect(client[Symbol.asyncDispose]()).toBe(closing)
    await closing
    for (const call of pending) expect((await caught(call)).code).toBe(ErrorCode.CLIENT_CLOSED)
    expect(client.status).toBe('closed')
    await server.peer.closed
    const late = await caught(client.actions.increment())
    expect(late).toMatchObject({ code: ErrorCode.CLIENT_CLOSED, message: 'The client of /tmp/test.memory is closed' })
    expect(server.transport.attempts).toHaveLength(1)
  })

  it('with replica: false, asks for no changes, has no state, and resolves calls on the answer', async () => {
    const server = createTestServer()
    await using client = await server.connect({ replica: false })
    expect(server.peer.received[0]).toMatchObject({ type: 'hello', data: { replica: false } })
    expect(await client.actions.increment(4)).toBe(4)
    expect(client.version).toBe(-1)
    expect(client.epoch).toBe('epoch-1')
    expect(() => client.state).toThrow('This client of /tmp/test.memory was connected with replica: false; use getState()')
    expect(() => client.subscribe(() => {})).toThrow(/replica: false/)
    expect(() =>
      client.subscribe(
        (state) => state.counter,
        () => {},
      ),
    ).toThrow(/replica: false/)
    expect(await client.getState()).toEqual({ counter: 4, list: [] })
  })

  it('warns once about a socketRoot without a trailing separator', async () => {
    const warn = vi.fn()
    const root = '/tmp/ipc-state-unit-no-such-folder'
    const connecting = publicApi.connect({ socketRoot: root, id: 'x', connectAttempts: 1, logger: { warn } })
    await expect(connecting).rejects.toMatchObject({ code: ErrorCode.SERVER_UNAVAILABLE })
    expect(warn).toHaveBeenCalledExactlyOnceWith(socketRootWarning(root), { socketRoot: root, path: `${root}app.x` })
  })

  it('throws a bad option at once, before any attempt', () => {
    const server = createTestServer()
    expect(() => server.connect({ maxInFlight: 0 })).toThrow(
      new TypeError('maxInFlight must be an integer of at least 1 or Infinity, got 0'),
    )
    expect(server.transport.attempts).toHaveLength(0)
  })

  it('throws a bad option at once without a transport too, before loading the socket transport', () => {
    expect(() => publicApi.connect({ id: 'x', timeout: 0 })).toThrow(
      new TypeError('timeout must be a number of at least 1 or Infinity, got 0'),
    )
  })

  it('rejects with PATH_TOO_LONG when the socket path does not fit', async () => {
    await expect(publicApi.connect({ socketRoot: '/tmp/', id: 'x'.repeat(200) })).rejects.toMatchObject({
      code: ErrorCode.PATH_TOO_LONG,
    })
  })
})

describe('connect over a transport of the caller', () => {
  it('is known by the transport name, or as a custom transport without one', async () => {
    const server = createTestServer()
    const named = await publicApi.connect<TestStore>({ transport: server.transport.at('worker port'), retryDelay: () => 0 })
    expect(named.path).toBe('worker port')
    expect(server.peer.path).toBe('worker port')
    const { open } = server.transport.at('ignored')
    const unnamed = await publicApi.connect<TestStore>({ transport: { open }, retryDelay: () => 0 })
    expect(unnamed.path).toBe('custom transport')
    expect(await unnamed.actions.increment(2)).toBe(2)
    await Promise.all([named.close(), unnamed.close()])
  })

  it.each([
    ['socketRoot', '/tmp/'],
    ['appspace', 'a.'],
    ['id', 'x'],
    ['allowForeignServer', true],
  ])('refuses %s given with a transport, naming it, before any attempt', (name, value) => {
    const server = createTestServer()
    expect(() => publicApi.connect({ transport: server.transport.at('memory'), [name]: value } as never)).toThrow(
      new TypeError(`${name} is an option of the Unix socket and cannot be given with transport`),
    )
    expect(server.transport.attempts).toHaveLength(0)
  })

  it('takes a transport that throws from open as a failed attempt: tried again, and named when connecting gives up', async () => {
    const server = createTestServer()
    const memory = server.transport.at('flaky')
    let throws = 1
    const flaky: ClientTransport = {
      name: 'flaky',
      open(handlers) {
        if (throws-- > 0) throw new Error('no route')
        return memory.open(handlers)
      },
    }
    await using client = await publicApi.connect<TestStore>({ transport: flaky, retryDelay: () => 0 })
    expect(client.status).toBe('connected')
    expect(server.transport.attempts).toHaveLength(1)

    const broken: ClientTransport = {
      open() {
        throw new Error('no route')
      },
    }
    await expect(publicApi.connect({ transport: broken, connectAttempts: 2, retryDelay: () => 0 })).rejects.toMatchObject({
      code: ErrorCode.SERVER_UNAVAILABLE,
      message: 'No server answered at custom transport after 2 attempts (option connectAttempts): no route',
    })
  })

  it.each([null, 'tcp://x', {}, { open: 'no' }])('refuses a transport that cannot open a connection: %o', (bad) => {
    expect(() => publicApi.connect({ transport: bad as never })).toThrow(
      new TypeError('transport must be an object with an open(handlers) method'),
    )
  })

  it('refuses a name that is not a string', () => {
    const server = createTestServer()
    expect(() => publicApi.connect({ transport: { ...server.transport.at('x'), name: 5 as never } })).toThrow(
      new TypeError('transport.name must be a string'),
    )
  })
})

/** A well-formed kept change that made `version`. */
function change(version: number) {
  return { version, at: 1_700_000_000_000 + version, action: 'increment', clientId: 'c', patches: [] }
}
