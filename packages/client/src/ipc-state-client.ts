// The client's public type: what `connect` resolves with, its state, typed actions, subscriptions and requests.
import type {
  ActionsOf,
  CallArgs,
  CallResult,
  ChangesListResult,
  DeepReadonly,
  ServerInfoResult,
  StateOf,
  StoreDefinition,
} from '@ipc-state/protocol'
import type { ClientStatus } from './client-status.js'
import type { CallOptions } from './calls/queued-call.js'
import type { ChangeInfo, StateListener, SubscribeOptions } from './replica/replica.js'
import type { WaitForOptions } from './replica/wait-for.js'

/** Typed action calls: each resolves with the action's result once the replica shows its effect. */
export type ClientActions<A> = {
  readonly [K in keyof A & string]: (...args: CallArgs<A[K]>) => Promise<CallResult<A[K]>>
}

/** A connected client of a store `T` (the type of a `defineStore` result). */
export interface IpcStateClient<T extends StoreDefinition<any, any>> {
  /** This client's stable id. */
  readonly clientId: string
  /**
   * This client instance's id: new for each `connect`, kept across reconnects. Actions see it as
   * `context.instanceId`; two clients sharing a `clientId` have two.
   */
  readonly instanceId: string
  /**
   * Where the server is: the socket path, or the name of the transport given to `connect`. With
   * `failover` addresses, the one in use: the server connected to, or the one being tried.
   */
  readonly path: string
  readonly status: ClientStatus
  /**
   * The live replica: a frozen, read-only copy of the server's state, current as of `version`.
   * Reading it is a memory read.
   * @throws Error when the client was connected with `replica: false`
   */
  readonly state: DeepReadonly<StateOf<T>>
  /** The version the replica shows; -1 for a client connected with `replica: false`. */
  readonly version: number
  /**
   * The identity of the store the replica comes from: new for each server run in memory, kept by a
   * server that restarts from a data folder without losing what clients saw.
   */
  readonly epoch: string
  /** The store's actions, typed from its definition. */
  readonly actions: ClientActions<ActionsOf<T>>
  /** Calls an action by name, with per-call options. */
  call<K extends keyof ActionsOf<T> & string>(
    action: K,
    input: CallArgs<ActionsOf<T>[K]>[0],
    options?: CallOptions,
  ): Promise<CallResult<ActionsOf<T>[K]>>
  /** Asks the server for the current state (a round trip; `state` is the local replica). */
  getState(options?: CallOptions): Promise<DeepReadonly<StateOf<T>>>
  /**
   * Asks the server to describe itself: its protocol, epoch, version, socket path and uptime, the
   * connections that said hello (the first 1,000, with `connectionCount` counting them all), the
   * calls it ran and changes it published since it started, its limits, and the store's actions
   * (the first 1,000 by name, with `actionCount`), each with its input's JSON Schema where its
   * schema can give one. A round trip; the result is frozen.
   *
   * @example
   * ```ts
   * const { connectionCount, counters, actions } = await client.serverInfo()
   * console.log(actions?.map((action) => action.name)) // ['addMessage', 'increment']
   * ```
   * @throws IpcStateError `TIMEOUT`, `ABORTED`, `CLIENT_CLOSED`, `CONNECTION_CLOSED`, and `BAD_REQUEST`
   *   from a server older than this request, or one whose answer is not what the protocol says
   *   (say more than 1,000 actions, or a name that is not a string)
   */
  serverInfo(options?: CallOptions): Promise<ServerInfoResult>
  /**
   * Asks the server for the last changes it published, oldest first, as many as it keeps (its
   * `historySize` and `historyBytes` options): each with its version, the server's time, the action
   * and client that made it, and its patches. For showing what happened before this client
   * connected, as the inspector does; a replica is kept current without it. A round trip; the
   * result is frozen.
   *
   * @example
   * ```ts
   * const { changes } = await client.recentChanges()
   * for (const change of changes) console.log(new Date(change.at), change.action, change.clientId)
   * ```
   * @throws IpcStateError `TIMEOUT`, `ABORTED`, `CLIENT_CLOSED`, `CONNECTION_CLOSED`, and `BAD_REQUEST`
   *   from a server older than this request, or one whose answer is not what the protocol says
   */
  recentChanges(options?: CallOptions): Promise<ChangesListResult>
  /** Runs `listener` after every change the replica applies. Returns a function that unsubscribes. */
  subscribe(listener: StateListener<StateOf<T>>): () => void
  /**
   * Runs `listener` when the part of the state that `selector` picks changes.
   * Returns a function that unsubscribes.
   */
  subscribe<V>(
    selector: (state: DeepReadonly<StateOf<T>>) => V,
    listener: (value: V, previous: V, info: ChangeInfo) => void,
    options?: SubscribeOptions<V>,
  ): () => void
  /**
   * Resolves with the replica's state once `predicate` holds for it: at once when it holds now,
   * else after the first change that makes it hold. The predicate runs now and after each change
   * the replica applies; nothing polls.
   *
   * @example
   * ```ts
   * const state = await client.waitFor((s) => s.jobs.some((job) => job.status === 'pending'), { timeout: 5_000 })
   * ```
   * @throws Error when the client was connected with `replica: false` (the promise rejects)
   * @throws IpcStateError `TIMEOUT` after `timeout` ms (no limit by default), `ABORTED` when
   *   `signal` fires, `CLIENT_CLOSED` when the client closes first; an error the predicate throws
   *   rejects the wait as it is
   */
  waitFor(predicate: (state: DeepReadonly<StateOf<T>>) => boolean, options?: WaitForOptions): Promise<DeepReadonly<StateOf<T>>>
  /** Runs `listener` whenever `status` changes. Returns a function that unregisters it. */
  onStatusChange(listener: (status: ClientStatus) => void): () => void
  /** Closes the connection; pending calls reject with `CLIENT_CLOSED`. A second call is a no-op. */
  close(): Promise<void>
  /** {@link close}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>
}
