import type { ActionMap, DeepReadonly } from '@ipc-state/protocol'
import { ActionCalls } from './action-calls.js'
import { CallRecord } from './call-record.js'
import { FanOut } from './fan-out.js'
import { MemoryBudget } from './memory-budget.js'
import type { ServerSettings } from './server-options.js'
import type { Session } from './session.js'
import { Sessions } from './sessions.js'
import { SnapshotCache } from './snapshot-cache.js'
import { StoreRuntime } from './store-runtime.js'
import type { Transport } from './transport.js'

/** A running server. */
export interface IpcStateServer<S> {
  /** The socket path clients connect to. */
  readonly path: string
  /** Changes each time a server starts. */
  readonly epoch: string
  /** The current state. Read-only: change it through actions. */
  readonly state: DeepReadonly<S>
  /** Increases by one with every action that changed the state. */
  readonly version: number
  /** Connections open now. */
  readonly connectionCount: number
  /**
   * Stops accepting, lets queued actions finish, tells every client it is going away, closes every
   * connection and removes the socket file. A second call returns the same promise.
   */
  close(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

/**
 * Runs a server over `transport`: wires the store runtime, the memory budget, the snapshot cache,
 * the record of answered calls, the action calls and their queue, the fan-out to replicas and the
 * sessions, then listens.
 * `createServer` calls it with node-ipc; unit tests with `createMemoryTransport()`.
 * @throws IpcStateError when the transport cannot listen
 */
export async function startServer<S extends object, A extends ActionMap<S>>(
  settings: ServerSettings<S, A>,
  transport: Transport,
): Promise<IpcStateServer<S>> {
  const { path, logger } = settings
  const budget = new MemoryBudget(settings)
  // The cache is made right after: a commit only ever comes from a call, once listening.
  const runtime = new StoreRuntime(settings.store, {
    maxStateBytes: settings.maxStateBytes,
    maxInputValues: settings.maxInputValues,
    onCommit: () => snapshots.drop(),
  })
  const snapshots = new SnapshotCache(runtime, budget)
  let closing: Promise<void> | undefined
  const isClosing = () => closing !== undefined
  const record = new CallRecord<Session>(settings)
  const fanOut = new FanOut<Session>()
  const calls = new ActionCalls({ runtime, record, fanOut, settings, isClosing })
  const sessions = new Sessions({
    settings,
    store: runtime,
    snapshots,
    budget,
    record,
    fanOut,
    call: (session, request) => calls.receive(session, request),
    isClosing,
  })
  const listening = await transport.listen({
    connection: (connection) => sessions.accept(connection),
    // A peer that goes away mid-write is ordinary; anything else is worth a warning.
    error: (error) =>
      error.code === 'EPIPE' || error.code === 'ECONNRESET'
        ? logger.debug?.('connection error', { error: error.message })
        : logger.warn?.('transport error', { error: error.message }),
  })
  logger.info?.('listening', { path, epoch: runtime.epoch })

  function close(): Promise<void> {
    closing ??= (async () => {
      if (calls.running) await calls.whenIdle()
      sessions.closeAll(`The server at ${path} is closing`)
      await listening.close()
      logger.info?.('closed', { path })
    })()
    return closing
  }

  return {
    path,
    get epoch() {
      return runtime.epoch
    },
    get state() {
      return runtime.state as DeepReadonly<S>
    },
    get version() {
      return runtime.version
    },
    get connectionCount() {
      return sessions.size
    },
    close,
    [Symbol.asyncDispose]: close,
  }
}
