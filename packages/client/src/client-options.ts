// The options of `connect`: their types and defaults, and the checks that turn them into settings.
import { Defaults, numberOption, type AbortSignalLike, type Logger } from '@ipc-state/protocol'
import { MAX_NAME_LENGTH } from '@ipc-state/protocol/wire'
import { DEFAULT_APPSPACE, socketRootWarning, type SocketAddress } from '@ipc-state/protocol/node'
import { exponentialBackoff, type RetryDelay } from './backoff.js'
import { randomId } from './random-id.js'
import type { ClientTransport } from './transport/client-transport.js'

/**
 * Options for {@link connect}: how the client behaves, and either where the server's Unix socket is
 * (`socketRoot`, `appspace`, `id`: the default transport) or a `transport` of your own.
 */
export type ConnectOptions = UnixSocketConnectOptions | TransportConnectOptions

/** Options for {@link connect} to a server on a Unix socket (a named pipe on Windows) through node-ipc. */
export interface UnixSocketConnectOptions extends ClientCoreOptions, SocketAddress {
  /**
   * Use a server whose socket file belongs to another user. By default, before it sends anything,
   * the client checks that the socket at the path is its own user's or root's, and otherwise fails
   * with `FOREIGN_SERVER` at once: another local user may have put a server of theirs there.
   * @default false
   */
  allowForeignServer?: boolean
  /**
   * More servers to move to when the connection to the current one is lost, for servers that share
   * one store (say through `@ipc-state/redis`), each on its own socket on this host. Each address
   * takes the main one's `socketRoot`, `appspace` and `id` for the parts it leaves out, so
   * `[{ id: 'b' }]` is the server `b` beside the main one; each is checked as the main one is
   * (its path's length, and its socket's owner unless `allowForeignServer`).
   *
   * Attempts, first and after a loss, go through the main address then these in turn, with the same
   * `retryDelay` between them. On a server of the same store the client resyncs from its version and
   * resends its unanswered calls, which the new server answers from its record or runs once. A
   * server at another address that serves another store (another epoch) is refused as a failed
   * attempt, and the next one is tried: the client stays with the store it has. `client.path` names
   * the address in use. At most 16.
   * @default [] (the main address only)
   */
  failover?: readonly FailoverAddress[]
  /** Only with {@link TransportConnectOptions}. */
  transport?: undefined
}

/** Another server of the same store, on this host: the parts left out are the main address's. */
export type FailoverAddress = Partial<SocketAddress>

/** The most addresses `failover` takes. */
export const MAX_FAILOVER_ADDRESSES = 16

/**
 * Options for {@link connect} over a transport of your own (see `ClientTransport`). The socket's
 * options mean nothing then, and giving one with `transport` is refused with a `TypeError`.
 */
export interface TransportConnectOptions extends ClientCoreOptions {
  /**
   * What carries the client's bytes, instead of node-ipc on a Unix socket: `messagePortTransport({ openPort })`
   * to a server in another thread, `webSocketTransport({ url, token })` to a server's WebSocket
   * listener, `memoryTransport().client` from `@ipc-state/server/testing`, or your own. The client's `path` is the transport's `name`.
   * Neither node-ipc nor any Node.js module of the socket transport is loaded then.
   */
  transport: ClientTransport
  socketRoot?: undefined
  appspace?: undefined
  id?: undefined
  allowForeignServer?: undefined
  failover?: undefined
}

/** The options of {@link connect} whatever carries its bytes. */
export interface ClientCoreOptions {
  /**
   * Cancels the wait for the first connection; `connect` then rejects with `ABORTED`.
   * It does not close a client that is already connected.
   */
  signal?: AbortSignalLike
  /**
   * Who this client is: actions see it as `context.clientId`. Several clients may share one.
   * (A call resent after a reconnect is recognised by a separate id that every `connect` makes.)
   * @default a random UUID
   */
  clientId?: string
  /**
   * Keep a live local replica of the state (`client.state`, `client.subscribe`). A client that only
   * writes can turn it off and receives no change traffic.
   * @default true
   */
  replica?: boolean
  /**
   * Offer the server binary frames: a value of 8 KiB or more (a large call's input, the replica's
   * snapshot) then goes as MessagePack behind a length, not as JSON text, when the server takes
   * them. What arrives is exactly what JSON would give; a value MessagePack could not carry
   * exactly (a Date, `undefined`, a lone surrogate…) goes as JSON whatever its size.
   * @default true
   */
  binaryFrames?: boolean
  /**
   * How long a request may wait, in milliseconds: for its answer, including time spent
   * reconnecting, and then for the replica to show the change it made. A `TIMEOUT` error says
   * whether the client was connected or reconnecting, with the last connection error as its
   * `cause`. A connection attempt whose handshake takes longer fails. `Infinity` waits for ever.
   * @default 10000
   */
  timeout?: number
  /**
   * Connection attempts before `connect` gives up with `SERVER_UNAVAILABLE`.
   * @default 10
   */
  connectAttempts?: number
  /**
   * Attempts to get back a lost connection before pending calls reject with `CONNECTION_CLOSED`
   * and the client closes. `0` turns reconnecting off.
   * @default Infinity
   */
  reconnectAttempts?: number
  /**
   * The wait before each retry, given the number of retries so far.
   * @default exponentialBackoff() (50 ms doubling to 2 s, with jitter)
   */
  retryDelay?: RetryDelay
  /**
   * Calls sent and not yet answered at once; more wait their turn in the client. Keep it at or
   * below the server's `dedupWindow`, so every resent call is recognised.
   * @default 1024
   */
  maxInFlight?: number
  /**
   * The largest frame accepted from the server, in bytes (a snapshot of the whole state is one). A
   * frame may also hold no more than one object or array per 16 bytes of it.
   * @default 256 MiB
   */
  maxFrameBytes?: number
  /**
   * Receives the client's log lines.
   * @default no logging
   */
  logger?: Logger
}

/** {@link ConnectOptions} checked, with every default filled in. */
export interface ClientOptions {
  /**
   * Where the server is, for messages: the socket path `socketRoot + appspace + id`, or the
   * transport's name; with failover addresses, every path joined with "or".
   */
  readonly path: string
  readonly clientId: string
  /**
   * Request ids restart with every `connect()`; this tells the server it is a new instance, even
   * when the caller reuses a `clientId`.
   */
  readonly instanceId: string
  readonly replica: boolean
  readonly binaryFrames: boolean
  readonly timeout: number
  readonly connectAttempts: number
  readonly reconnectAttempts: number
  readonly retryDelay: RetryDelay
  readonly maxInFlight: number
  readonly maxFrameBytes: number
  readonly logger: Logger
  readonly signal: AbortSignalLike | undefined
  /** What is wrong with `socketRoot`, when it looks like a mistake (no trailing separator). */
  readonly socketRootWarning: string | undefined
  /** Whether a socket that belongs to another user may be used. */
  readonly allowForeignServer: boolean
}

/**
 * Checks a timeout, the client's or one call's: milliseconds, or `Infinity` for no limit.
 * @throws TypeError naming the option
 */
export function timeoutOption(value: unknown, fallback: number): number {
  return numberOption('timeout', value, { fallback, min: 1, integer: false, infinity: true })
}

/** The options that say where the Unix socket is: with a transport of the caller's, they mean nothing. */
const SOCKET_OPTIONS = ['socketRoot', 'appspace', 'id', 'allowForeignServer', 'failover'] as const

/** What a client over a transport without a name calls where it connects. */
export const UNNAMED_TRANSPORT = 'custom transport'

/**
 * Checks the transport option: an object that opens connections, given without any socket option.
 * @returns the transport, or `undefined` for the Unix socket
 * @throws TypeError naming the option
 */
export function transportOption(options: ConnectOptions): ClientTransport | undefined {
  const { transport } = options
  if (transport === undefined) return undefined
  if (typeof transport !== 'object' || transport === null || typeof transport.open !== 'function') {
    throw new TypeError('transport must be an object with an open(handlers) method')
  }
  if (transport.name !== undefined && typeof transport.name !== 'string') throw new TypeError('transport.name must be a string')
  for (const option of SOCKET_OPTIONS) {
    if ((options as unknown as Record<string, unknown>)[option] !== undefined) {
      throw new TypeError(`${option} is an option of the Unix socket and cannot be given with transport`)
    }
  }
  return transport
}

const ADDRESS_PARTS = new Set(['socketRoot', 'appspace', 'id'])

/**
 * Checks the `failover` option: at most {@link MAX_FAILOVER_ADDRESSES} objects, each with string
 * parts of a socket address only, and no two addresses (the main one included) alike.
 * @returns each address with the main address's parts filled in for those it leaves out
 * @throws TypeError naming the option and the address that is wrong
 */
export function failoverOption(options: UnixSocketConnectOptions): SocketAddress[] {
  const { failover } = options
  if (failover === undefined) return []
  if (!Array.isArray(failover)) throw new TypeError('failover must be an array of socket addresses')
  if (failover.length > MAX_FAILOVER_ADDRESSES) {
    throw new TypeError(`failover takes at most ${MAX_FAILOVER_ADDRESSES} addresses, got ${failover.length}`)
  }
  const { socketRoot, appspace, id } = options
  // Told apart as node-ipc joins them; an unset socketRoot (the default folder) as its own.
  const key = (address: Partial<SocketAddress>) =>
    `${address.socketRoot ?? '\0'}${address.appspace ?? DEFAULT_APPSPACE}${address.id}`
  const seen = new Set([key(options)])
  return failover.map((given: unknown, i) => {
    const name = `failover[${i}]`
    if (typeof given !== 'object' || given === null || Array.isArray(given)) throw new TypeError(`${name} must be an object`)
    for (const [part, value] of Object.entries(given)) {
      if (!ADDRESS_PARTS.has(part))
        throw new TypeError(`${name}.${part} is not an option: an address takes socketRoot, appspace and id`)
      if (value !== undefined && typeof value !== 'string') throw new TypeError(`${name}.${part} must be a string`)
    }
    const address: SocketAddress = { socketRoot, appspace, id, ...definedParts(given as FailoverAddress) }
    if (seen.has(key(address))) throw new TypeError(`${name} names a server given already: each address must be another one`)
    seen.add(key(address))
    return address
  })
}

/** The parts an address gives, without those set to `undefined`, which take the main address's. */
function definedParts(address: FailoverAddress): FailoverAddress {
  return Object.fromEntries(Object.entries(address).filter(([, value]) => value !== undefined))
}

/**
 * Checks every option of {@link ConnectOptions} but where the server is, and fills in its default.
 * @param path where the server is, as the transport names it
 * @throws TypeError naming the option that is wrong
 */
export function parseClientOptions(
  options: ClientCoreOptions & { allowForeignServer?: boolean; socketRoot?: string },
  path: string,
): ClientOptions {
  const clientId = options.clientId ?? randomId()
  if (typeof clientId !== 'string' || clientId.length === 0 || clientId.length > MAX_NAME_LENGTH) {
    throw new TypeError(`clientId must be a string of 1 to ${MAX_NAME_LENGTH} characters`)
  }
  const replica = options.replica ?? true
  const binaryFrames = options.binaryFrames ?? true
  if (typeof binaryFrames !== 'boolean') throw new TypeError('binaryFrames must be a boolean')
  const timeout = timeoutOption(options.timeout, Defaults.TIMEOUT_MS)
  const connectAttempts = numberOption('connectAttempts', options.connectAttempts, {
    fallback: Defaults.CONNECT_ATTEMPTS,
    min: 1,
    infinity: true,
  })
  const reconnectAttempts = numberOption('reconnectAttempts', options.reconnectAttempts, {
    fallback: Number.POSITIVE_INFINITY,
    min: 0,
    infinity: true,
  })
  const maxInFlight = numberOption('maxInFlight', options.maxInFlight, { fallback: Defaults.MAX_IN_FLIGHT, min: 1, infinity: true })
  const maxFrameBytes = numberOption('maxFrameBytes', options.maxFrameBytes, { fallback: Defaults.CLIENT_MAX_FRAME_BYTES, min: 1 })
  const retryDelay = options.retryDelay ?? exponentialBackoff()
  if (typeof retryDelay !== 'function') throw new TypeError('retryDelay must be a function')
  const allowForeignServer = options.allowForeignServer ?? false
  if (typeof allowForeignServer !== 'boolean') throw new TypeError('allowForeignServer must be a boolean')
  return {
    path,
    clientId,
    instanceId: randomId(),
    replica,
    binaryFrames,
    timeout,
    connectAttempts,
    reconnectAttempts,
    retryDelay,
    maxInFlight,
    maxFrameBytes,
    logger: options.logger ?? {},
    signal: options.signal,
    socketRootWarning: socketRootWarning(options.socketRoot),
    allowForeignServer,
  }
}
