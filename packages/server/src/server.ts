import type { ActionMap, CallArgs, CallResult, DeepReadonly } from '@ipc-state/protocol'
import { socketRootWarning } from '@ipc-state/protocol/node'
import { ActionCalls } from './calls/action-calls.js'
import { CallRecord } from './calls/call-record.js'
import { CommitPipeline } from './calls/commit-pipeline.js'
import { ExternalChanges } from './calls/external-changes.js'
import { RelayedCalls } from './calls/relayed-calls.js'
import { FanOut } from './connections/fan-out.js'
import { MemoryBudget } from './connections/memory-budget.js'
import type { CreateServerOptions } from './server-options.js'
import { parseServerOptions, type ServerSettings } from './server-settings.js'
import type { Session } from './connections/session.js'
import { Sessions } from './connections/sessions.js'
import { StateFrames } from './connections/state-frames.js'
import { measuredTransport, timedWrites } from './metrics/measured-io.js'
import { openMetrics } from './metrics/open-metrics.js'
import type { ServerMetrics } from './metrics/server-metrics.js'
import { openStorage, replayOptions } from './open-storage.js'
import { Presence } from './presence/presence.js'
import { StoreRuntime } from './state/store-runtime.js'
import { actionCatalog } from './state/action-catalog.js'
import { ChangeHistory } from './state/change-history.js'
import type { RelayTarget } from './storage/call-relay.js'
import type { ExternalUpdate, Storage } from './storage/storage.js'
import { createIpcTransport } from './transport/ipc-transport.js'
import type { Transport, TransportHandlers } from './transport/transport.js'

/** The store's actions, as the server process calls them: each resolves with the action's result once its change is durable. */
export type ServerActions<A> = {
  readonly [K in keyof A & string]: (...args: CallArgs<A[K]>) => Promise<CallResult<A[K]>>
}

/** A running server. */
export interface IpcStateServer<S, A extends ActionMap<S> = ActionMap<S>> {
  /**
   * Where clients connect: the socket path, or the name of the transport given to `createServer`
   * (of the first, when given several).
   */
  readonly path: string
  /**
   * The store's identity, as clients see it: new each time a server starts in memory; kept by one
   * that starts from its storage without having lost what clients saw.
   */
  readonly epoch: string
  /** The current state. Read-only: change it through actions. */
  readonly state: DeepReadonly<S>
  /** Increases by one with every action that changed the state (once its change is stored). */
  readonly version: number
  /** Connections open now. */
  readonly connectionCount: number
  /**
   * The store's actions, called by the server process itself: in the same total order as clients'
   * calls, stored and sent to every replica as theirs are. Each resolves with the action's result
   * once its change is durable; the action sees `context.clientId` and `context.instanceId` as `''`
   * (no client), and replicas see the change with its `action` and no `clientId`. For what only the server can
   * decide, such as expiring the lease of a worker that hangs while still connected.
   *
   * @example
   * ```ts
   * setInterval(() => void server.actions.expireLeases(), 1_000)
   * ```
   * @throws IpcStateError `UNKNOWN_ACTION`, `BAD_ARGUMENTS`, `ACTION_FAILED`, `PERSIST_FAILED`,
   *   `SERVER_CLOSING` (through the promise)
   */
  readonly actions: ServerActions<A>
  /**
   * Stops accepting, lets queued actions finish, tells every client it is going away, closes every
   * connection and removes the socket file. A second call returns the same promise.
   */
  close(): Promise<void>
  /** {@link close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>
}

/**
 * Starts a server that owns `store`'s state and serves it at node-ipc's path
 * `socketRoot + appspace + id`, creating `socketRoot` (mode 0700) when missing; or, given a
 * `transport` (or several), over those instead.
 *
 * @example
 * ```ts
 * await using server = await createServer({ store: demoStore, socketRoot: '/tmp/cem/', appspace: 'ipc-ogreniyorum', id: 'server-socket' })
 * // the same socket, and worker threads through message ports
 * const ports = messagePortTransport()
 * await using both = await createServer({ store: demoStore, transport: [unixSocketTransport({ id: 'server-socket' }), ports] })
 * ```
 * @throws TypeError when an option is invalid, or a socket option is given with `transport`
 * @throws IpcStateError `PATH_TOO_LONG`, `UNSAFE_SOCKET_ROOT`, `NOT_A_SOCKET`, `ADDRESS_IN_USE`, `LISTEN_FAILED`, or
 *   what the transport's `listen` throws
 */
export async function createServer<S extends object, A extends ActionMap<S>>(
  options: CreateServerOptions<S, A>,
): Promise<IpcStateServer<S, A>> {
  const settings = parseServerOptions(options)
  const { transport, address } = settings
  if (transport !== undefined) return startServer(settings, transport)
  const rootWarning = socketRootWarning(options.socketRoot)
  if (rootWarning !== undefined) settings.logger.warn?.(rootWarning, { socketRoot: options.socketRoot, path: settings.path })
  // Without a transport, the options name a socket, whose address parseServerOptions resolved.
  return startServer(settings, createIpcTransport({ ...settings, address: address! }))
}

/**
 * Runs a server over `transport`: wires the store runtime, the memory budget, the snapshot cache,
 * the record of answered calls, the storage and the pipeline to it, the action calls and their
 * queue, the fan-out to replicas and the sessions, loads what the storage holds, then listens.
 * `createServer` calls it with node-ipc, or with the transport its options name.
 * @throws IpcStateError when the storage cannot be opened or the transport cannot listen
 */
export async function startServer<S extends object, A extends ActionMap<S>>(
  settings: ServerSettings<S, A>,
  transport: Transport,
): Promise<IpcStateServer<S, A>> {
  const { path, logger } = settings
  const startedAt = performance.now()
  const metrics = await openMetrics(settings.meterProvider, Object.keys(settings.store.actions))
  const budget = new MemoryBudget(settings)
  // The cache is made right after: a commit only ever comes from a call, once listening.
  const runtime = new StoreRuntime(settings.store, {
    maxStateBytes: settings.maxStateBytes,
    maxInputValues: settings.maxInputValues,
    onCommit: () => snapshots.drop(),
  })
  // Clients are served the state whose change is durable, never the working one ahead of it.
  const served = {
    get epoch() {
      return runtime.epoch
    },
    get version() {
      return runtime.served.version
    },
    get state(): unknown {
      return runtime.served.state
    },
  }
  const snapshots = new StateFrames(served, budget)
  let closing: Promise<void> | undefined
  const isClosing = () => closing !== undefined
  const record = new CallRecord<Session>(settings)
  const history = settings.historySize === 0 ? undefined : new ChangeHistory(settings)
  const fanOut = new FanOut<Session>(history)
  const { storage } = settings
  const pipeline = new CommitPipeline(storage !== undefined && metrics !== undefined ? timedWrites(storage, metrics) : storage, {
    logger,
    rolledBack: (error) => {
      runtime.rollback()
      presence.rollback()
      logger.error?.(
        `a change could not be stored: calls are answered ${error.code} and the state stays at the last stored version ` +
          'until the storage writes again (free disk space, or fix what the error names); reads are served meanwhile',
        { version: runtime.version, error: error.message },
      )
    },
    caughtUp: () => {
      runtime.rollback()
      presence.rollback()
      external.applyPending()
    },
  })
  // Made before the storage opens, which restores who was present; it queues through `calls`, made next.
  const presence = new Presence({ store: settings.store, leaveGrace: settings.leaveGrace, hook: (job) => calls.hook(job), logger })
  const external = new ExternalChanges({
    runtime,
    record,
    fanOut,
    pipeline,
    snapshots,
    presence,
    replay: replayOptions(settings),
    learned: (instanceId, answer) => calls.answers.learned(instanceId, answer),
    logger,
  })
  // What a storage that relays calls to one writer hands over: only once `calls` exists, after `open`.
  let started: ActionCalls<S> | undefined
  let relayed: RelayedCalls | undefined
  const relay: RelayTarget = {
    run: (relayedCalls, source) => started?.runRelayed(relayedCalls, source),
    replied: (replies, source) => started?.answers.replied(replies, source),
    refused: (relayedCalls, error) => started?.answers.refused(relayedCalls, error),
    relayAgain: () => relayed?.again(),
  }
  if (storage !== undefined) {
    const receive = (updates: readonly ExternalUpdate[]) => external.receive(updates)
    await openStorage(storage, { settings, runtime, record, snapshots, presence, receive, relay })
  }
  relayed =
    storage?.relay === undefined || storage.leases === undefined
      ? undefined
      : new RelayedCalls({ relay: storage.relay, serverId: storage.leases.serverId, ...settings })
  const calls = new ActionCalls({ runtime, record, fanOut, pipeline, settings, isClosing, metrics, relayed })
  started = calls
  const sessions = new Sessions({
    settings,
    store: served,
    snapshots,
    budget,
    record,
    fanOut,
    pipeline,
    presence,
    call: (session, request) => calls.receive(session, request),
    isClosing,
    counters: () => ({ calls: calls.calls, changes: calls.changes }),
    startedAt,
    actions: actionCatalog(settings.store.actions, settings.store.inputs),
    metrics,
    history,
  })
  metrics?.observe({ connections: () => sessions.size, queueDepth: () => record.unanswered })
  const measured = metrics === undefined ? transport : measuredTransport(transport, metrics)
  const listening = await listen(
    measured,
    { storage, metrics },
    {
      maxConnections: settings.maxConnections,
      connection: (connection) => sessions.accept(connection),
      // A peer that goes away mid-write is ordinary; anything else is worth a warning.
      error: (error) =>
        error.code === 'EPIPE' || error.code === 'ECONNRESET'
          ? logger.debug?.('connection error', { error: error.message })
          : logger.warn?.('transport error', { error: error.message }),
    },
  )
  logger.info?.('listening', { path, epoch: runtime.epoch })
  presence.start(storage?.leases)

  function close(): Promise<void> {
    closing ??= (async () => {
      // Who is present now stays so in the storage: a server that takes it over waits for them.
      presence.close()
      if (calls.running) await calls.whenIdle()
      await pipeline.whenIdle()
      sessions.closeAll(`The server at ${path} is closing`)
      try {
        await listening.close()
      } finally {
        metrics?.close()
        await storage?.close()
      }
      logger.info?.('closed', { path })
    })()
    return closing
  }

  const actionCache = new Map<string, (input?: unknown) => Promise<unknown>>()
  const actions = new Proxy(Object.freeze({}), {
    get(_target, name) {
      // Not thenable: `await server.actions` must not look for a `then` action.
      if (typeof name !== 'string' || name === 'then') return undefined
      let bound = actionCache.get(name)
      if (bound === undefined) {
        bound = (input?: unknown) => calls.call(name, input)
        actionCache.set(name, bound)
      }
      return bound
    },
  }) as ServerActions<A>

  return {
    path,
    actions,
    get epoch() {
      return runtime.epoch
    },
    get state() {
      return runtime.served.state as DeepReadonly<S>
    },
    get version() {
      return runtime.served.version
    },
    get connectionCount() {
      return sessions.size
    },
    close,
    [Symbol.asyncDispose]: close,
  }
}

/** Listens, releasing the storage and the instruments when that fails: a server that did not start holds nothing. */
async function listen(
  transport: Transport,
  { storage, metrics }: { storage: Storage | undefined; metrics: ServerMetrics | undefined },
  handlers: TransportHandlers,
) {
  try {
    return await transport.listen(handlers)
  } catch (error) {
    metrics?.close()
    await storage?.close().catch(() => undefined)
    throw error
  }
}
