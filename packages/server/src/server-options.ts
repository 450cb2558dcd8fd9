// The options createServer takes: the store, its limits, and where clients reach it.
import type { ActionMap, Logger, StoreDefinition } from '@ipc-state/protocol'
import type { SocketAddress } from '@ipc-state/protocol/node'
import type { MeterProviderLike } from './metrics/meter-provider.js'
import type { Storage } from './storage/storage.js'
import type { Transport } from './transport/transport.js'

/**
 * Options for {@link createServer}: the store and its limits, and either where its Unix socket is
 * (`socketRoot`, `appspace`, `id`: the default transport) or a `transport` of your own.
 */
export type CreateServerOptions<S extends object, A extends ActionMap<S>> =
  | UnixSocketServerOptions<S, A>
  | TransportServerOptions<S, A>

/** Options for {@link createServer} on a Unix socket (a named pipe on Windows) through node-ipc. */
export interface UnixSocketServerOptions<S extends object, A extends ActionMap<S>> extends ServerCoreOptions<S, A>, SocketAddress {
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
  /** Only with {@link TransportServerOptions}. */
  transport?: undefined
}

/**
 * Options for {@link createServer} over transports of your own (see `Transport`). The socket's
 * options mean nothing then, and giving one with `transport` is refused with a `TypeError`: give
 * `unixSocketTransport({ … })` among the transports instead.
 */
export interface TransportServerOptions<S extends object, A extends ActionMap<S>> extends ServerCoreOptions<S, A> {
  /**
   * What carries the server's bytes, instead of node-ipc on a Unix socket: `messagePortTransport()`
   * for worker threads and renderers, `listenWebSocket()` from `@ipc-state/server/websocket` for
   * pages, `memoryTransport().server` from `@ipc-state/server/testing`, or your own. Several at once serve every client of each, with one state:
   * `[unixSocketTransport({ id }), messagePortTransport()]` keeps the Unix socket beside ports.
   * Clients connect through the matching client transport; the server's `path` is the (first)
   * transport's `name`.
   */
  transport: Transport | readonly Transport[]
  socketRoot?: undefined
  appspace?: undefined
  id?: undefined
  socketMode?: undefined
  allowUnsafeSocketRoot?: undefined
}

/** The options of {@link createServer} whatever carries its bytes. */
export interface ServerCoreOptions<S extends object, A extends ActionMap<S>> {
  /** The store this server owns, as made by `defineStore`. */
  store: StoreDefinition<S, A>
  /**
   * Where committed changes go, and where the state comes from at start-up: `fileStorage({ dir })`
   * keeps them in a data folder, so the state survives a crash or a restart.
   * @default none: the state lives in memory only, and starts from `store.initialState` each time
   */
  storage?: Storage
  /**
   * Receives the server's log lines. node-ipc's own logging is always off.
   * @default no logging
   */
  logger?: Logger
  /**
   * Where the server records its OpenTelemetry metrics (calls by action and outcome, call latency,
   * queue depth, connections, resyncs, bytes in and out, storage write latency: the README lists
   * them): an SDK's `MeterProvider`, or `false` to record none.
   * @default the global provider of `@opentelemetry/api` (an optional peer dependency), loaded when
   *   the server starts, when that package is installed and an SDK has registered a provider there
   *   by then; else none, and the server measures nothing
   */
  meterProvider?: MeterProviderLike | false
  /**
   * The largest frame a client may send, in bytes. A connection that sends more is closed, as is
   * one whose frame holds more than one object or array per 16 bytes of this limit.
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
   * Bytes that may queue for one connection that does not read, besides a snapshot of the state it
   * is still receiving; past it the connection is closed with `SLOW_CONSUMER`.
   * @default 64 MiB
   */
  maxBufferedBytes?: number
  /**
   * Bytes that may queue for all connections together. A change or a snapshot that many
   * connections queue counts once (the current version's snapshot not at all: the server holds it
   * anyway), plus what each queued frame costs besides its bytes. Past it, the connections with the
   * most queued are closed with `SLOW_CONSUMER`, most first (within 256 bytes, oldest first), until it fits.
   * @default 256 MiB
   */
  maxTotalBufferedBytes?: number
  /**
   * Bytes of frames that clients have started and not finished, over all connections. Past it, the
   * connections with the largest unfinished frames are closed with `FRAME_TOO_LARGE` until it fits.
   * @default 64 MiB
   */
  maxTotalPendingBytes?: number
  /**
   * How long a client may take to finish a frame it started, in milliseconds; a connection that
   * holds an unfinished frame longer is closed with `TIMEOUT`. `Infinity` turns the deadline off.
   * @default 5000
   */
  frameTimeout?: number
  /**
   * How long a new connection may take to say hello, in milliseconds: one whose hello the server
   * has not taken within it is closed with `TIMEOUT`, whatever else it sent (garbage and requests
   * before the hello do not count), so connections that never say hello cannot hold every
   * connection slot. A plain node-ipc client that sends `getSharedData` at once is unaffected.
   * `Infinity` turns the deadline off.
   * @default 10000
   */
  handshakeTimeout?: number
  /**
   * The largest frame that carries the whole state, one change or one action result, in bytes (the
   * JSON plus 256 for the message around it). An action that would pass it fails with
   * `ACTION_FAILED` and changes nothing, so that every client can always receive the state.
   * @default 256 MiB (what a client accepts by default)
   */
  maxStateBytes?: number
  /**
   * The most JSON values (numbers, strings, arrays, objects… each counts) an action's input may
   * hold when the action has an input schema; more is answered `BAD_ARGUMENTS` before the schema
   * runs, since a schema library may spend hundreds of bytes on each issue it reports. `Infinity`
   * turns the check off.
   * @default 100000
   */
  maxInputValues?: number
  /**
   * How many of the last changes the server keeps for `changes/list` (what the inspector shows of
   * the changes made before its page opened), at most 10000; 0 keeps none.
   * @default 100
   */
  historySize?: number
  /**
   * The most bytes the kept changes take together (their patches as JSON, their action names and
   * client ids), at most `maxStateBytes`: the oldest go first to stay within it, and a change larger
   * than all of it is kept without its patches.
   * @default 1 MiB
   */
  historyBytes?: number
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
   * How long, in milliseconds, a client instance whose connection was lost may take to come back
   * before the store's `onClientLeave` runs for it: longer than a reconnect takes (a client waits at
   * most 2 s between attempts by default). A client that closes says goodbye and is left at once.
   * After a restart from a storage, instances that were present get the same time to come back.
   * `Infinity` leaves an instance only when it says goodbye. Read only when the store has a hook.
   * @default 5000
   */
  leaveGrace?: number
}
