import { Defaults, ErrorCode, defineStore, type IpcStateError } from '@ipc-state/protocol'
import { describe, expect, it } from 'vitest'
import { parseServerOptions } from './server-settings.js'
import { localSocketRoot } from './files/socket-file.js'

const store = defineStore({ initialState: { n: 0 }, actions: {} })

const numeric = [
  'maxFrameBytes',
  'maxDepth',
  'maxConnections',
  'maxInFlight',
  'maxBufferedBytes',
  'maxTotalBufferedBytes',
  'maxTotalPendingBytes',
  'dedupWindow',
  'maxRememberedClients',
] as const

describe('parseServerOptions', () => {
  it('fills every default from protocol', () => {
    const settings = parseServerOptions({ store, id: 'defaults' })
    expect(settings).toMatchObject({
      maxFrameBytes: Defaults.MAX_FRAME_BYTES,
      maxDepth: Defaults.MAX_DEPTH,
      maxConnections: Defaults.MAX_CONNECTIONS,
      maxInFlight: Defaults.MAX_IN_FLIGHT,
      maxBufferedBytes: Defaults.MAX_BUFFERED_BYTES,
      dedupWindow: Defaults.DEDUP_WINDOW,
      maxRememberedClients: Defaults.MAX_REMEMBERED_CLIENTS,
      answerGrace: Defaults.ANSWER_GRACE_MS,
      socketMode: 0o600,
      allowUnsafeSocketRoot: false,
      logger: {},
      // Not node-ipc's shared /tmp/: a folder of this user's own.
      path: `${localSocketRoot()}app.defaults`,
      address: { id: 'defaults' },
    })
    if (process.platform !== 'win32') expect(settings.path).not.toBe('/tmp/app.defaults')
  })

  it('takes answerGrace in milliseconds, fractions and Infinity included, and refuses a negative one', () => {
    expect(parseServerOptions({ store, id: 'x', answerGrace: 0 }).answerGrace).toBe(0)
    expect(parseServerOptions({ store, id: 'x', answerGrace: 2.5 }).answerGrace).toBe(2.5)
    expect(parseServerOptions({ store, id: 'x', answerGrace: Number.POSITIVE_INFINITY }).answerGrace).toBe(Number.POSITIVE_INFINITY)
    expect(() => parseServerOptions({ store, id: 'x', answerGrace: -1 })).toThrow(
      new TypeError('answerGrace must be a number of at least 0 or Infinity, got -1'),
    )
  })

  it('keeps given values', () => {
    const settings = parseServerOptions({
      store,
      id: 'x',
      socketRoot: '/tmp/s/',
      appspace: 'a.',
      maxInFlight: 3,
      socketMode: 0o660,
    })
    expect(settings).toMatchObject({ maxInFlight: 3, socketMode: 0o660, path: '/tmp/s/a.x' })
  })

  it.each(
    numeric.flatMap((name) => [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '3'].map((value) => [name, value] as const)),
  )('throws a TypeError naming %s for %s', (name, value) => {
    expect(() => parseServerOptions({ store, id: 'x', [name]: value })).toThrow(
      new TypeError(`${name} must be an integer of at least 1, got ${String(value)}`),
    )
  })

  it('refuses something that is not a store definition', () => {
    expect(() => parseServerOptions({ store: null as never, id: 'x' })).toThrow(
      new TypeError('store must be a store definition made by defineStore'),
    )
  })

  it('fails with PATH_TOO_LONG before anything listens when the path does not fit a socket', () => {
    let error: IpcStateError | undefined
    try {
      parseServerOptions({ store, id: 'x'.repeat(200) })
    } catch (caught) {
      error = caught as IpcStateError
    }
    expect(error?.code).toBe(ErrorCode.PATH_TOO_LONG)
  })
})

describe('the transport option', () => {
  const transport = { name: 'worker port', listen: () => Promise.reject(new Error('not used')) }

  it('takes a transport instead of a socket: the server is known by its name, and no socket path is resolved', () => {
    const settings = parseServerOptions({ store, transport })
    expect(settings).toMatchObject({ transport, path: 'worker port', address: undefined })
    expect(parseServerOptions({ store, transport: { listen: transport.listen } }).path).toBe('custom transport')
  })

  it.each([
    ['socketRoot', '/tmp/'],
    ['appspace', 'a.'],
    ['id', 'x'],
    ['socketMode', 0o600],
    ['allowUnsafeSocketRoot', true],
  ])('refuses %s given with a transport, naming it', (name, value) => {
    expect(() => parseServerOptions({ store, transport, [name]: value } as never)).toThrow(
      new TypeError(`${name} is an option of the Unix socket and cannot be given with transport (see unixSocketTransport)`),
    )
  })

  it.each([null, 'tcp://x', {}, { listen: 'no' }])('refuses a transport that cannot listen: %o', (bad) => {
    expect(() => parseServerOptions({ store, transport: bad as never })).toThrow(
      new TypeError('transport must be an object with a listen(handlers) method'),
    )
  })

  it('refuses a name that is not a string', () => {
    expect(() => parseServerOptions({ store, transport: { ...transport, name: 5 as never } })).toThrow(
      new TypeError('transport.name must be a string'),
    )
  })

  it('takes several transports as one, known by the first one’s name', () => {
    const other = { name: 'other', listen: transport.listen }
    const settings = parseServerOptions({ store, transport: [transport, other] })
    expect(settings.path).toBe('worker port')
    expect(settings.transport?.name).toBe('worker port')
    expect(parseServerOptions({ store, transport: [transport] }).transport).toBe(transport)
  })

  it('refuses an empty list, the same transport twice, and names the one in a list that cannot listen', () => {
    expect(() => parseServerOptions({ store, transport: [] })).toThrow(new TypeError('transport must not be an empty list'))
    expect(() => parseServerOptions({ store, transport: [transport, transport] })).toThrow(
      new TypeError('transport lists the same transport twice'),
    )
    expect(() => parseServerOptions({ store, transport: [transport, { listen: 'no' } as never] })).toThrow(
      new TypeError('transport[1] must be an object with a listen(handlers) method'),
    )
  })
})

describe('the memory options', () => {
  it('default to the server-wide budget, a five-second frame deadline and what a client accepts', () => {
    expect(parseServerOptions({ store, id: 'x' })).toMatchObject({
      maxTotalBufferedBytes: 256 * 1024 * 1024,
      maxTotalPendingBytes: 64 * 1024 * 1024,
      frameTimeout: 5_000,
      handshakeTimeout: 10_000,
      maxStateBytes: Defaults.CLIENT_MAX_FRAME_BYTES,
      maxInputValues: 100_000,
    })
  })

  it('accept Infinity for frameTimeout only, and a maxStateBytes with room for a frame', () => {
    expect(parseServerOptions({ store, id: 'x', frameTimeout: Number.POSITIVE_INFINITY }).frameTimeout).toBe(
      Number.POSITIVE_INFINITY,
    )
    expect(() => parseServerOptions({ store, id: 'x', frameTimeout: 0 })).toThrow(
      new TypeError('frameTimeout must be an integer of at least 1 or Infinity, got 0'),
    )
    expect(() => parseServerOptions({ store, id: 'x', maxStateBytes: 100 })).toThrow(
      new TypeError('maxStateBytes must be an integer of at least 1024, got 100'),
    )
  })
})

describe('the history options', () => {
  it('keep 100 changes within 1 MiB by default, and none with historySize 0', () => {
    expect(parseServerOptions({ store, id: 'x' })).toMatchObject({ historySize: 100, historyBytes: 1024 * 1024 })
    expect(parseServerOptions({ store, id: 'x', historySize: 0 }).historySize).toBe(0)
  })

  it('refuse more changes than one changes/list answer holds, and more bytes than maxStateBytes', () => {
    expect(() => parseServerOptions({ store, id: 'x', historySize: 10_001 })).toThrow(
      new TypeError('historySize must be at most 10000, got 10001'),
    )
    expect(() => parseServerOptions({ store, id: 'x', historySize: -1 })).toThrow(
      new TypeError('historySize must be an integer of at least 0, got -1'),
    )
    expect(() => parseServerOptions({ store, id: 'x', maxStateBytes: 4096, historyBytes: 4097 })).toThrow(
      new TypeError('historyBytes must be at most maxStateBytes (4096), got 4097'),
    )
  })
})

describe('meterProvider', () => {
  it.each([null, 'otel', {}, { getMeter: 1 }])('refuses %o, naming the option', (bad) => {
    expect(() => parseServerOptions({ store, id: 'x', meterProvider: bad as never })).toThrow(
      new TypeError('meterProvider must be an OpenTelemetry MeterProvider, or false'),
    )
  })
})
