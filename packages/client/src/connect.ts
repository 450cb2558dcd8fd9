// The client's public face over any transport, wiring its options, replica, calls and connection; no Node.js module.
import {
  ErrorCode,
  IpcStateError,
  type ActionsOf,
  type CallArgs,
  type CallResult,
  type DeepReadonly,
  type ServerInfoResult,
  type StateOf,
  type StoreDefinition,
} from '@ipc-state/protocol'
import { ClientMessageType } from '@ipc-state/protocol/wire'
import { abortError } from './abort-error.js'
import { CallQueue } from './call-queue.js'
import type { CallOptions } from './queued-call.js'
import { type ClientCoreOptions, type ClientOptions, parseClientOptions, UNNAMED_TRANSPORT } from './client-options.js'
import type { ClientStatus } from './client-status.js'
import { ConnectionLifecycle } from './connection/connection-lifecycle.js'
import type { ClientTransport } from './transport/client-transport.js'
import { Replica, type ChangeInfo, type StateListener, type SubscribeOptions } from './replica.js'
import { checkedServerInfo } from './connection/server-results.js'
import { type WaitForOptions, waitFor } from './wait-for.js'

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
  /** Where the server is: the socket path, or the name of the transport given to `connect`. */
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
  [Symbol.asyncDispose](): Promise<void>
}

/**
 * `connect` over `transport`, with options that say nothing of a socket: the core both entries'
 * `connect` share, which loads no Node.js module.
 */
export function connectOver<T extends StoreDefinition<any, any>>(
  transport: ClientTransport,
  options: ClientCoreOptions,
): Promise<IpcStateClient<T>> {
  return start<T>(transport, parseClientOptions(options, transport.name ?? UNNAMED_TRANSPORT), undefined)
}

/** Makes the client, with its replica, its calls and its connection, and starts connecting. */
export function start<T extends StoreDefinition<any, any>>(
  transport: ClientTransport,
  settings: ClientOptions,
  socketRoot: string | undefined,
): Promise<IpcStateClient<T>> {
  const { path, logger, signal } = settings
  if (settings.socketRootWarning !== undefined) logger.warn?.(settings.socketRootWarning, { socketRoot, path })
  if (signal?.aborted) return Promise.reject(abortError(signal))

  const replica = settings.replica ? new Replica<StateOf<T>>(logger) : undefined
  const calls: CallQueue = new CallQueue({
    path,
    timeout: settings.timeout,
    maxInFlight: settings.maxInFlight,
    status: () => lifecycle.status,
    lastFailure: () => lifecycle.lastFailure,
    awaitVersion: replica && ((version) => replica.reached(lifecycle.epoch, version)),
  })
  const lifecycle: ConnectionLifecycle = new ConnectionLifecycle({ options: settings, transport, replica, calls })

  function call(action: string, input: unknown, callOptions?: CallOptions): Promise<unknown> {
    if (typeof action !== 'string') return Promise.reject(new TypeError('action must be a string'))
    return calls.request(
      'action',
      (id) => ({ type: ClientMessageType.ActionCall, data: input === undefined ? { id, action } : { id, action, input } }),
      callOptions,
    )
  }

  const actionCache = new Map<string, (input?: unknown) => Promise<unknown>>()
  const actions = new Proxy(Object.freeze({}), {
    get(_target, name) {
      // Not thenable: `await client.actions` must not look for a `then` action.
      if (typeof name !== 'string' || name === 'then') return undefined
      let bound = actionCache.get(name)
      if (bound === undefined) {
        bound = (input?: unknown) => call(name, input)
        actionCache.set(name, bound)
      }
      return bound
    },
  })

  function requireReplica(): Replica<StateOf<T>> {
    if (replica === undefined) throw new Error(`This client of ${path} was connected with replica: false; use getState()`)
    return replica
  }

  function subscribe(...args: unknown[]): () => void {
    const source = requireReplica()
    if (args.length === 1 && typeof args[0] === 'function') {
      return source.subscribe(args[0] as StateListener<StateOf<T>>)
    }
    const [selector, listener, subscribeOptions = {}] = args as [
      (state: unknown) => unknown,
      (value: unknown, previous: unknown, info: ChangeInfo) => void,
      SubscribeOptions<unknown>?,
    ]
    if (typeof selector !== 'function' || typeof listener !== 'function') {
      throw new TypeError('subscribe takes a listener, or a selector and a listener')
    }
    const equals = subscribeOptions.equals ?? Object.is
    let selected = selector(source.state)
    if (subscribeOptions.immediate === true) {
      listener(selected, selected, { reason: 'resync', version: source.version, epoch: source.epoch })
    }
    return source.subscribe((state, info) => {
      const next = selector(state)
      if (equals(selected, next)) return
      const previous = selected
      selected = next
      listener(next, previous, info)
    })
  }

  let closed: Promise<void> | undefined
  const close = (): Promise<void> => {
    closed ??= (async () => {
      lifecycle.close(new IpcStateError(ErrorCode.CLIENT_CLOSED, `The client of ${path} was closed`))
    })()
    return closed
  }

  const client: IpcStateClient<T> = {
    clientId: settings.clientId,
    instanceId: settings.instanceId,
    path,
    get status() {
      return lifecycle.status
    },
    get state() {
      return requireReplica().state as DeepReadonly<StateOf<T>>
    },
    get version() {
      return replica === undefined ? -1 : replica.version
    },
    get epoch() {
      return lifecycle.epoch
    },
    actions: actions as ClientActions<ActionsOf<T>>,
    call: call as IpcStateClient<T>['call'],
    getState: (callOptions) =>
      calls.request('state', (id) => ({ type: ClientMessageType.StateGet, data: { id } }), callOptions) as Promise<
        DeepReadonly<StateOf<T>>
      >,
    serverInfo: (callOptions) =>
      calls
        .request('info', (id) => ({ type: ClientMessageType.ServerInfo, data: { id } }), callOptions)
        .then((result) => checkedServerInfo(result, path)),
    subscribe: subscribe as IpcStateClient<T>['subscribe'],
    waitFor: (predicate, waitOptions) => {
      let source: Replica<StateOf<T>>
      try {
        source = requireReplica()
      } catch (error) {
        return Promise.reject(error)
      }
      const client = { replica: source, path, status: () => lifecycle.status }
      return waitFor(client, (listener) => lifecycle.onStatusChange(listener), predicate, waitOptions)
    },
    onStatusChange: (listener) => lifecycle.onStatusChange(listener),
    close,
    [Symbol.asyncDispose]: close,
  }

  return lifecycle.start().then(() => client)
}
