import {
  Defaults,
  numberOption,
  resolveSocketPath,
  type ActionMap,
  type Logger,
  type SocketAddress,
  type StoreDefinition,
} from '@ipc-state/protocol'
import { localSocketRoot } from './socket-file.js'

/** Options for {@link createServer}. */
export interface CreateServerOptions<S extends object, A extends ActionMap<S>> extends SocketAddress {
  /** The store this server owns, as made by `defineStore`. */
  store: StoreDefinition<S, A>
  /**
   * Receives the server's log lines. node-ipc's own logging is always off.
   * @default no logging
   */
  logger?: Logger
  /**
   * The largest frame a client may send, in bytes. A connection that sends more is closed.
   * @default 16 MiB
   */
  maxFrameBytes?: number
  /**
   * How deeply a client's message may nest.
   * @default 64
   */
  maxDepth?: number
  /**
   * The most connections served at once; more are told `TOO_MANY_CONNECTIONS` and closed.
   * @default 1024
   */
  maxConnections?: number
  /**
   * The most requests one connection may have unanswered; more are answered `TOO_MANY_REQUESTS`.
   * @default 1024
   */
  maxInFlight?: number
  /**
   * Bytes that may queue for one connection that does not read; past it the connection is closed
   * with `SLOW_CONSUMER`.
   * @default 64 MiB
   */
  maxBufferedBytes?: number
  /**
   * How many recent results of calls that changed the state are kept per client instance, so a
   * call resent after a reconnect is answered from the record instead of being applied twice. A
   * resend older than that gets `OUTCOME_UNKNOWN`, and is not applied again.
   * @default 1024
   */
  dedupWindow?: number
  /**
   * How many client instances without a connection keep their record once `answerGrace` has
   * passed; the one idle longest is forgotten first. Instances with a connection are always kept.
   * Idle instances hold at most `maxRememberedClients × (dedupWindow + 1)` entries between them.
   * @default 1024
   */
  maxRememberedClients?: number
  /**
   * How long, in milliseconds, a client instance that lost its connection (or was cut off) keeps
   * its record before it may be forgotten to make room. A call it resends after that gets
   * `OUTCOME_UNKNOWN` rather than a second apply. `Infinity` keeps it until the bound on entries
   * needs the room.
   * @default 60000
   */
  answerGrace?: number
  /**
   * The socket file's permission bits.
   * @default 0o600 (owner only)
   */
  socketMode?: number
  /**
   * Accept a socket folder that another user owns or that others can write to.
   * @default false
   */
  allowUnsafeSocketRoot?: boolean
}

/** {@link CreateServerOptions} checked, with every default filled in. */
export interface ServerSettings<S extends object, A extends ActionMap<S>> {
  store: StoreDefinition<S, A>
  logger: Logger
  /** The socket path clients connect to: `socketRoot + appspace + id`. */
  path: string
  /** What `path` was resolved from. */
  address: SocketAddress
  maxFrameBytes: number
  maxDepth: number
  maxConnections: number
  maxInFlight: number
  maxBufferedBytes: number
  dedupWindow: number
  maxRememberedClients: number
  answerGrace: number
  socketMode: number
  allowUnsafeSocketRoot: boolean
}

const atLeastOne = (fallback: number) => ({ fallback, min: 1 })

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
  return {
    store,
    logger,
    maxFrameBytes: numberOption('maxFrameBytes', options.maxFrameBytes, atLeastOne(Defaults.MAX_FRAME_BYTES)),
    maxDepth: numberOption('maxDepth', options.maxDepth, atLeastOne(Defaults.MAX_DEPTH)),
    maxConnections: numberOption('maxConnections', options.maxConnections, atLeastOne(Defaults.MAX_CONNECTIONS)),
    maxInFlight: numberOption('maxInFlight', options.maxInFlight, atLeastOne(Defaults.MAX_IN_FLIGHT)),
    maxBufferedBytes: numberOption('maxBufferedBytes', options.maxBufferedBytes, atLeastOne(Defaults.MAX_BUFFERED_BYTES)),
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
    // Not a protocol limit: a property of the socket file only this server creates.
    socketMode: options.socketMode ?? 0o600,
    allowUnsafeSocketRoot: options.allowUnsafeSocketRoot === true,
    address: { socketRoot: options.socketRoot, appspace: options.appspace, id: options.id },
    // Not node-ipc's shared /tmp/ by default: a folder only this user can write to.
    path: resolveSocketPath({ ...options, socketRoot: options.socketRoot ?? localSocketRoot(), platform: process.platform }),
  }
}
