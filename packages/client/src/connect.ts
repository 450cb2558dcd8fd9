// The client's core, shared by both entries' `connect`: wires its options, transport, replica, calls and connection, and loads no Node.js module.
import {
  ErrorCode,
  IpcStateError,
  type ActionsOf,
  type DeepReadonly,
  type StateOf,
  type StoreDefinition,
} from '@ipc-state/protocol'
import { ClientMessageType } from '@ipc-state/protocol/wire'
import { abortError } from './calls/abort-error.js'
import { CallQueue } from './calls/call-queue.js'
import type { CallOptions } from './calls/queued-call.js'
import { type ClientCoreOptions, type ClientOptions, parseClientOptions, UNNAMED_TRANSPORT } from './client-options.js'
import type { ClientActions, IpcStateClient } from './ipc-state-client.js'
import { ConnectionLifecycle } from './connection/connection-lifecycle.js'
import type { ClientTransport } from './transport/client-transport.js'
import { type NamedTransport, ServerAddresses } from './connection/server-addresses.js'
import { Replica, type ChangeInfo, type StateListener, type SubscribeOptions } from './replica/replica.js'
import { checkedChangesList, checkedServerInfo } from './connection/server-results.js'
import { waitFor } from './replica/wait-for.js'

/**
 * `connect` over `transport`, with options that say nothing of a socket: the core both entries'
 * `connect` share, which loads no Node.js module.
 */
export function connectOver<T extends StoreDefinition<any, any>>(
  transport: ClientTransport,
  options: ClientCoreOptions,
): Promise<IpcStateClient<T>> {
  const name = transport.name ?? UNNAMED_TRANSPORT
  return start<T>([{ name, open: (handlers) => transport.open(handlers) }], parseClientOptions(options, name), undefined)
}

/**
 * Makes the client, with its replica, its calls and its connection, and starts connecting.
 * @param transports one per server address, the main one first: more are failover addresses
 */
export function start<T extends StoreDefinition<any, any>>(
  transports: readonly NamedTransport[],
  given: ClientOptions,
  socketRoot: string | undefined,
): Promise<IpcStateClient<T>> {
  const addresses = new ServerAddresses(transports, given.logger)
  const settings = { ...given, path: addresses.name }
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
    awaitVersion:
      replica && ((version) => (replica.shows(lifecycle.epoch, version) ? undefined : replica.reached(lifecycle.epoch, version))),
  })
  const lifecycle: ConnectionLifecycle = new ConnectionLifecycle({ options: settings, addresses, replica, calls })

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
    get path() {
      return addresses.current
    },
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
    recentChanges: (callOptions) =>
      calls
        .request('info', (id) => ({ type: ClientMessageType.ChangesList, data: { id } }), callOptions)
        .then((result) => checkedChangesList(result, path)),
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
