// The server's options checked, with every default filled in: what the rest of the server reads.
import { Defaults, numberOption, type ActionMap, type Logger, type StoreDefinition } from '@ipc-state/protocol'
import { CHANGES_LIST_MAX } from '@ipc-state/protocol/wire'
import type { SocketAddress } from '@ipc-state/protocol/node'
import { BudgetDefaults } from './connections/memory-budget.js'
import { HANDSHAKE_TIMEOUT_MS } from './connections/session.js'
import type { CreateServerOptions, UnixSocketServerOptions } from './server-options.js'
import type { MeterProviderLike } from './metrics/meter-provider.js'
import type { Storage } from './storage/storage.js'
import { combineTransports, type Transport } from './transport/transport.js'
import { socketAddress } from './transport/ipc-transport.js'
import { MAX_INPUT_VALUES } from './state/input-check.js'

/** {@link CreateServerOptions} checked, with every default filled in. */
export interface ServerSettings<S extends object, A extends ActionMap<S>> {
  store: StoreDefinition<S, A>
  storage: Storage | undefined
  logger: Logger
  /** The provider given, `false` for none, or `undefined` for the global one (see `openMetrics`). */
  meterProvider: MeterProviderLike | false | undefined
  /** Where clients connect: the socket path `socketRoot + appspace + id`, or the (first) transport's name. */
  path: string
  /** The transports given in the options, as one; `undefined` for the Unix socket. */
  transport: Transport | undefined
  /** What `path` was resolved from; `undefined` with a transport of the caller's. */
  address: SocketAddress | undefined
  maxFrameBytes: number
  maxDepth: number
  maxConnections: number
  maxInFlight: number
  maxBufferedBytes: number
  maxTotalBufferedBytes: number
  maxTotalPendingBytes: number
  frameTimeout: number
  handshakeTimeout: number
  maxStateBytes: number
  maxInputValues: number
  historySize: number
  historyBytes: number
  dedupWindow: number
  maxRememberedClients: number
  answerGrace: number
  leaveGrace: number
  socketMode: number
  allowUnsafeSocketRoot: boolean
}

const atLeastOne = (fallback: number) => ({ fallback, min: 1 })

/** Changes kept for `changes/list` by default, and the bytes they may take. */
const HISTORY_SIZE = 100
const HISTORY_BYTES = 1024 * 1024

/** The options that say where the Unix socket is: with a transport of the caller's, they mean nothing. */
const SOCKET_OPTIONS = ['socketRoot', 'appspace', 'id', 'socketMode', 'allowUnsafeSocketRoot'] as const

/** What a server over a transport without a name is called. */
const UNNAMED_TRANSPORT = 'custom transport'

/**
 * Checks the transport option: an object that listens, or a list of them, given without any socket
 * option; several become one that listens on each.
 * @throws TypeError naming the option
 */
function transportOption(options: Record<string, unknown>): Transport | undefined {
  const { transport } = options
  if (transport === undefined) return undefined
  const list = Array.isArray(transport) ? (transport as unknown[]) : [transport]
  if (list.length === 0) throw new TypeError('transport must not be an empty list')
  list.forEach((item, index) => {
    const option = Array.isArray(transport) ? `transport[${index}]` : 'transport'
    if (typeof item !== 'object' || item === null || typeof (item as Transport).listen !== 'function') {
      throw new TypeError(`${option} must be an object with a listen(handlers) method`)
    }
    const name = (item as Transport).name
    if (name !== undefined && typeof name !== 'string') throw new TypeError(`${option}.name must be a string`)
  })
  if (new Set(list).size !== list.length) throw new TypeError('transport lists the same transport twice')
  for (const option of SOCKET_OPTIONS) {
    if (options[option] !== undefined) {
      throw new TypeError(`${option} is an option of the Unix socket and cannot be given with transport (see unixSocketTransport)`)
    }
  }
  return combineTransports(list as Transport[])
}

/**
 * Checks `options` and fills in the defaults (from protocol's `Defaults`).
 * @throws TypeError naming the option that is invalid
 * @throws IpcStateError `PATH_TOO_LONG` when the socket path does not fit a Unix socket
 */
export function parseServerOptions<S extends object, A extends ActionMap<S>>(
  options: CreateServerOptions<S, A>,
): ServerSettings<S, A> {
  const { store, logger = {} } = options
  if (typeof store !== 'object' || store === null || typeof store.actions !== 'object') {
    throw new TypeError('store must be a store definition made by defineStore')
  }
  const { storage } = options
  const transport = transportOption(options as unknown as Record<string, unknown>)
  if (storage !== undefined && (typeof storage !== 'object' || storage === null || typeof storage.write !== 'function')) {
    throw new TypeError('storage must be a storage such as fileStorage({ dir })')
  }
  const { meterProvider } = options
  if (
    meterProvider !== undefined &&
    meterProvider !== false &&
    (typeof meterProvider !== 'object' || meterProvider === null || typeof meterProvider.getMeter !== 'function')
  ) {
    throw new TypeError('meterProvider must be an OpenTelemetry MeterProvider, or false')
  }
  // Room for the frame around the JSON (FRAME_ENVELOPE_BYTES) and a little state.
  const maxStateBytes = numberOption('maxStateBytes', options.maxStateBytes, {
    fallback: Defaults.CLIENT_MAX_FRAME_BYTES,
    min: 1024,
  })
  const historySize = numberOption('historySize', options.historySize, { fallback: HISTORY_SIZE, min: 0 })
  if (historySize > CHANGES_LIST_MAX) throw new TypeError(`historySize must be at most ${CHANGES_LIST_MAX}, got ${historySize}`)
  // One answer to changes/list holds them all, within what a client accepts.
  const historyBytes = numberOption('historyBytes', options.historyBytes, { fallback: HISTORY_BYTES, min: 0 })
  if (historyBytes > maxStateBytes) {
    throw new TypeError(`historyBytes must be at most maxStateBytes (${maxStateBytes}), got ${historyBytes}`)
  }
  return {
    store,
    storage,
    logger,
    meterProvider,
    maxFrameBytes: numberOption('maxFrameBytes', options.maxFrameBytes, atLeastOne(Defaults.MAX_FRAME_BYTES)),
    maxDepth: numberOption('maxDepth', options.maxDepth, atLeastOne(Defaults.MAX_DEPTH)),
    maxConnections: numberOption('maxConnections', options.maxConnections, atLeastOne(Defaults.MAX_CONNECTIONS)),
    maxInFlight: numberOption('maxInFlight', options.maxInFlight, atLeastOne(Defaults.MAX_IN_FLIGHT)),
    maxBufferedBytes: numberOption('maxBufferedBytes', options.maxBufferedBytes, atLeastOne(Defaults.MAX_BUFFERED_BYTES)),
    maxTotalBufferedBytes: numberOption(
      'maxTotalBufferedBytes',
      options.maxTotalBufferedBytes,
      atLeastOne(BudgetDefaults.MAX_TOTAL_BUFFERED_BYTES),
    ),
    maxTotalPendingBytes: numberOption(
      'maxTotalPendingBytes',
      options.maxTotalPendingBytes,
      atLeastOne(BudgetDefaults.MAX_TOTAL_PENDING_BYTES),
    ),
    frameTimeout: numberOption('frameTimeout', options.frameTimeout, {
      fallback: BudgetDefaults.FRAME_TIMEOUT_MS,
      min: 1,
      infinity: true,
    }),
    handshakeTimeout: numberOption('handshakeTimeout', options.handshakeTimeout, {
      fallback: HANDSHAKE_TIMEOUT_MS,
      min: 1,
      infinity: true,
    }),
    maxStateBytes,
    historySize,
    historyBytes,
    maxInputValues: numberOption('maxInputValues', options.maxInputValues, {
      fallback: MAX_INPUT_VALUES,
      min: 1,
      infinity: true,
    }),
    dedupWindow: numberOption('dedupWindow', options.dedupWindow, atLeastOne(Defaults.DEDUP_WINDOW)),
    maxRememberedClients: numberOption(
      'maxRememberedClients',
      options.maxRememberedClients,
      atLeastOne(Defaults.MAX_REMEMBERED_CLIENTS),
    ),
    answerGrace: numberOption('answerGrace', options.answerGrace, {
      fallback: Defaults.ANSWER_GRACE_MS,
      min: 0,
      integer: false,
      infinity: true,
    }),
    leaveGrace: numberOption('leaveGrace', options.leaveGrace, {
      fallback: Defaults.LEAVE_GRACE_MS,
      min: 0,
      integer: false,
      infinity: true,
    }),
    // Not a protocol limit: a property of the socket file only this server creates.
    socketMode: options.socketMode ?? 0o600,
    allowUnsafeSocketRoot: options.allowUnsafeSocketRoot === true,
    transport,
    ...(transport === undefined
      ? socketAddress(options as UnixSocketServerOptions<S, A>)
      : { address: undefined, path: transport.name ?? UNNAMED_TRANSPORT }),
  }
}
