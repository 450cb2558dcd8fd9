import { randomUUID } from 'node:crypto'
import {
  ClientMessageType,
  ErrorCode,
  FrameDecoder,
  IpcStateError,
  MAX_NAME_LENGTH,
  PROTOCOL_VERSION,
  ServerMessageType,
  decodeServerMessage,
  deepFreeze,
  encodeFrame,
  errorFromWire,
  resolveSocketPath,
  socketRootWarning,
  type ActionCallResult,
  type ActionsOf,
  type CallArgs,
  type CallResult,
  type DeepReadonly,
  type HelloResult,
  type Logger,
  type ResponseMessage,
  type SocketAddress,
  type StateGetResult,
  type StateOf,
  type StoreDefinition,
} from '@ipc-state/protocol'
import { exponentialBackoff, type RetryDelay } from './backoff.js'
import { openIpcConnection, type ClientConnection } from './ipc-transport.js'
import { Replica, type ChangeInfo, type StateListener, type SubscribeOptions } from './replica.js'

/** Where a client is in its life. */
export type ClientStatus = 'connecting' | 'connected' | 'reconnecting' | 'closed'

/** Options for {@link connect}. */
export interface ConnectOptions extends SocketAddress {
  /**
   * Cancels the wait for the first connection; `connect` then rejects with `ABORTED`.
   * It does not close a client that is already connected.
   */
  signal?: AbortSignal
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
   * The largest frame accepted from the server, in bytes (a snapshot of the whole state is one).
   * @default 256 MiB
   */
  maxFrameBytes?: number
  /**
   * Receives the client's log lines.
   * @default no logging
   */
  logger?: Logger
}

/** Options for one request. */
export interface CallOptions {
  /** Abandons the wait with `ABORTED`. The server may still apply an action already sent. */
  signal?: AbortSignal
  /**
   * Overrides the client's `timeout` for this request, in milliseconds.
   */
  timeout?: number
}

/** Typed action calls: each resolves with the action's result once the replica shows its effect. */
export type ClientActions<A> = {
  readonly [K in keyof A & string]: (...args: CallArgs<A[K]>) => Promise<CallResult<A[K]>>
}

/** A connected client of a store `T` (the type of a `defineStore` result). */
export interface IpcStateClient<T extends StoreDefinition<any, any>> {
  /** This client's stable id. */
  readonly clientId: string
  /** The socket path. */
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
  /** The id of the server run the replica comes from. */
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
  /** Runs `listener` whenever `status` changes. Returns a function that unregisters it. */
  onStatusChange(listener: (status: ClientStatus) => void): () => void
  /** Closes the connection; pending calls reject with `CLIENT_CLOSED`. A second call is a no-op. */
  close(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}

interface Pending {
  readonly id: number
  readonly frame: string
  readonly kind: 'action' | 'state'
  resolve(value: unknown): void
  reject(error: IpcStateError): void
  /** Answered by the server; only the replica is awaited now, and the timeout still runs. */
  awaitVersion(version: number): void
  sent: boolean
}

const DEFAULT_MAX_CLIENT_FRAME_BYTES = 256 * 1024 * 1024

function countOption(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback
  if (!(value === Number.POSITIVE_INFINITY || (Number.isSafeInteger(value) && value >= min))) {
    throw new TypeError(`${name} must be an integer of at least ${min} or Infinity, got ${String(value)}`)
  }
  return value
}

function timeoutOption(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!(typeof value === 'number' && value > 0)) throw new TypeError(`${name} must be a positive number, got ${String(value)}`)
  return value
}

const abortError = (signal: AbortSignal): IpcStateError =>
  new IpcStateError(ErrorCode.ABORTED, 'The operation was aborted', { cause: signal.reason })

/**
 * Connects to the server at node-ipc's path `socketRoot + appspace + id`, waiting with backoff
 * while the server is not up yet, and resolves once the handshake is done (and, with a replica,
 * once the replica holds the server's state).
 *
 * @example
 * ```ts
 * await using client = await connect<typeof demoStore>({ socketRoot: '/tmp/cem/', appspace: 'ipc-ogreniyorum', id: 'server-socket' })
 * client.state.counter
 * await client.actions.increment(2)
 * ```
 * @throws TypeError when an option is invalid
 * @throws IpcStateError `SERVER_UNAVAILABLE` after `connectAttempts` failed attempts,
 *   `PROTOCOL_MISMATCH`, `ABORTED`, `PATH_TOO_LONG`
 */
export function connect<T extends StoreDefinition<any, any>>(options: ConnectOptions): Promise<IpcStateClient<T>> {
  const path = resolveSocketPath({ ...options, platform: process.platform })
  const clientId = options.clientId ?? randomUUID()
  if (typeof clientId !== 'string' || clientId.length === 0 || clientId.length > MAX_NAME_LENGTH) {
    throw new TypeError(`clientId must be a string of 1 to ${MAX_NAME_LENGTH} characters`)
  }
  // Request ids restart with every connect(); this tells the server it is a new instance, even
  // when the caller reuses a clientId.
  const instanceId = randomUUID()
  const wantsReplica = options.replica ?? true
  const timeout = timeoutOption('timeout', options.timeout, 10_000)
  const connectAttempts = countOption('connectAttempts', options.connectAttempts, 10, 1)
  const reconnectAttempts = countOption('reconnectAttempts', options.reconnectAttempts, Number.POSITIVE_INFINITY, 0)
  const maxInFlight = countOption('maxInFlight', options.maxInFlight, 1024, 1)
  const maxFrameBytes = countOption('maxFrameBytes', options.maxFrameBytes, DEFAULT_MAX_CLIENT_FRAME_BYTES, 1)
  const retryDelay = options.retryDelay ?? exponentialBackoff()
  if (typeof retryDelay !== 'function') throw new TypeError('retryDelay must be a function')
  const logger = options.logger ?? {}
  const rootWarning = socketRootWarning(options.socketRoot)
  if (rootWarning !== undefined) logger.warn?.(rootWarning, { socketRoot: options.socketRoot, path })
  const { signal } = options
  if (signal?.aborted) return Promise.reject(abortError(signal))

  let status: ClientStatus = 'connecting'
  const statusListeners = new Set<(status: ClientStatus) => void>()
  const replica = new Replica<StateOf<T>>(logger)
  let connection: ClientConnection | undefined
  let decoder: FrameDecoder
  let nextId = 1
  let helloId = -1
  let resyncId = -1
  let epoch = ''
  /** Failed attempts in the current phase (connecting, or reconnecting after a loss). */
  let failures = 0
  let retryTimer: ReturnType<typeof setTimeout> | undefined
  let helloTimer: ReturnType<typeof setTimeout> | undefined
  let serverClosing = false
  let lastFailure: Error | undefined
  const pending = new Map<number, Pending>()
  /** Ids waiting to be sent, in order; at most `maxInFlight` are sent and unanswered. */
  let unsent: number[] = []
  let sentCount = 0

  let settleConnect: { resolve(): void; reject(error: IpcStateError): void } | undefined
  const connected = new Promise<void>((resolve, reject) => (settleConnect = { resolve, reject }))
  const onAbort = () => fail(abortError(signal!))
  signal?.addEventListener('abort', onAbort, { once: true })

  // A function, not a comparison: listeners called in between may have changed `status`, which
  // TypeScript's narrowing cannot see.
  const isClosed = (): boolean => status === 'closed'

  function setStatus(next: ClientStatus): void {
    if (status === next) return
    status = next
    logger.debug?.('status', { status: next, path })
    for (const listener of statusListeners) {
      // A listener changed the status again (say, closed the client): the rest have heard the newer one.
      if (status !== next) return
      try {
        listener(next)
      } catch (error) {
        logger.error?.('a status listener threw', { error: String(error) })
      }
    }
  }

  function open(): void {
    retryTimer = undefined
    if (status === 'closed') return
    decoder = new FrameDecoder({ maxFrameBytes, byteLength: Buffer.byteLength })
    serverClosing = false
    const current: ClientConnection = openIpcConnection(path, {
      open: () => {
        helloId = nextId++
        // A server that accepts but never answers the handshake counts as a failed attempt.
        if (timeout !== Number.POSITIVE_INFINITY) {
          helloTimer = setTimeout(() => {
            lastFailure = new IpcStateError(ErrorCode.TIMEOUT, `No handshake from ${path} within ${timeout} ms (option timeout)`)
            current.close()
          }, timeout)
        }
        current.write(
          encodeFrame(ClientMessageType.Hello, {
            id: helloId,
            protocol: PROTOCOL_VERSION,
            clientId,
            instanceId,
            replica: wantsReplica,
          }),
        )
      },
      data: (text) => {
        if (connection === current) onData(text)
      },
      close: (error) => {
        clearTimeout(helloTimer)
        if (connection !== current) return
        connection = undefined
        onClosed(error)
      },
    })
    connection = current
  }

  function onData(text: string): void {
    let frames: string[]
    try {
      frames = decoder.push(text)
    } catch (error) {
      logger.error?.('the server sent a frame that is too large; reconnecting', { error: String(error) })
      lastFailure = error as Error
      connection?.close()
      return
    }
    for (const frame of frames) {
      const decoded = decodeServerMessage(frame)
      if (!decoded.ok) {
        onMalformed(decoded.error, decoded.id)
        continue
      }
      const { message } = decoded
      switch (message.type) {
        case ServerMessageType.Response:
          onResponse(message.data)
          break
        case ServerMessageType.StateChanged: {
          const { epoch: changeEpoch, version, patches } = message.data
          if (replica.apply(changeEpoch, version, patches) === 'gap') resync('a change did not follow the replica')
          break
        }
        case ServerMessageType.ServerClosing:
          serverClosing = true
          logger.info?.('the server is closing', { reason: message.data.reason })
          break
        case ServerMessageType.ProtocolError:
          lastFailure = errorFromWire(message.data.error)
          logger.warn?.('the server reported an error', { ...message.data.error, fatal: message.data.fatal })
          break
        case ServerMessageType.SeedSharedData:
          break
      }
      if (connection === undefined) return
    }
  }

  /**
   * A frame that does not decode may have been a change: the replica fetches a fresh snapshot
   * rather than stay behind, and a request whose answer was unreadable fails now, not at its timeout.
   */
  function onMalformed(error: IpcStateError, id: number | undefined): void {
    logger.warn?.('the server sent a frame that does not decode', { reason: error.message })
    if (id !== undefined && id === helloId) {
      lastFailure = error
      connection?.close()
      return
    }
    const call = id === undefined ? undefined : takePending(id)
    call?.reject(new IpcStateError(ErrorCode.BAD_REQUEST, `The answer from ${path} does not decode: ${error.message}`))
    if (wantsReplica) resync('a frame did not decode')
  }

  /** Removes an answered request from the queue, making room for the next one. */
  function takePending(id: number): Pending | undefined {
    const call = pending.get(id)
    if (call === undefined) return undefined
    pending.delete(id)
    if (call.sent) sentCount -= 1
    pump()
    return call
  }

  function onResponse(response: ResponseMessage): void {
    if (response.id === helloId) {
      onHello(response)
      return
    }
    if (response.id === resyncId) {
      resyncId = -1
      if (response.error === undefined) {
        const snapshot = response.result as StateGetResult
        replica.reset(snapshot.epoch, snapshot.version, snapshot.state)
      } else {
        // Without a snapshot the replica cannot catch up on this connection; a new one brings one.
        lastFailure = errorFromWire(response.error)
        logger.warn?.('the server refused a snapshot; reconnecting', { ...response.error })
        connection?.close()
      }
      return
    }
    const call = takePending(response.id)
    if (call === undefined) return // answered after its caller stopped waiting
    if (response.error !== undefined) {
      call.reject(errorFromWire(response.error))
    } else if (call.kind === 'state') {
      call.resolve(deepFreeze((response.result as StateGetResult).state))
    } else {
      const result = response.result as ActionCallResult
      if (!wantsReplica) call.resolve(result.value)
      // Read your own writes: the caller sees its change in `client.state` when this resolves.
      else {
        call.awaitVersion(result.version)
        void replica.reached(epoch, result.version).then(() => call.resolve(result.value))
      }
    }
  }

  function onHello(response: ResponseMessage): void {
    helloId = -1
    clearTimeout(helloTimer)
    if (response.error !== undefined) {
      const error = errorFromWire(response.error)
      if (error.code === ErrorCode.PROTOCOL_MISMATCH) fail(error)
      else {
        lastFailure = error
        connection?.close()
      }
      return
    }
    const hello = response.result as HelloResult
    epoch = hello.epoch
    if (wantsReplica) replica.reset(hello.epoch, hello.version, hello.state)
    failures = 0
    lastFailure = undefined
    // Everything unanswered goes again, in its original order: the server answers a call it has
    // already applied from its record instead of applying it twice.
    for (const call of pending.values()) call.sent = false
    unsent = [...pending.keys()]
    sentCount = 0
    setStatus('connected')
    signal?.removeEventListener('abort', onAbort)
    settleConnect?.resolve()
    settleConnect = undefined
    pump()
  }

  function resync(reason: string): void {
    // Before the handshake is answered, the hello's snapshot is on its way anyway.
    if (resyncId !== -1 || connection === undefined || status !== 'connected') return
    logger.info?.('resyncing the replica', { reason, version: replica.version })
    resyncId = nextId++
    connection.write(encodeFrame(ClientMessageType.StateGet, { id: resyncId }))
  }

  function pump(): void {
    if (status !== 'connected' || connection === undefined) return
    while (sentCount < maxInFlight && unsent.length > 0) {
      const call = pending.get(unsent.shift()!)
      if (call === undefined || call.sent) continue
      call.sent = true
      sentCount += 1
      connection.write(call.frame)
    }
  }

  function onClosed(error: Error | undefined): void {
    if (status === 'closed') return
    if (error !== undefined) lastFailure = error
    helloId = -1
    resyncId = -1
    if (status === 'connected') {
      if (reconnectAttempts === 0) {
        fail(new IpcStateError(ErrorCode.CONNECTION_CLOSED, `The connection to ${path} closed`, { cause: lastFailure }))
        return
      }
      failures = 0
      setStatus('reconnecting')
    } else {
      failures += 1
      const limit = status === 'connecting' ? connectAttempts : reconnectAttempts
      if (failures >= limit) {
        const reason = lastFailure === undefined ? '' : `: ${lastFailure.message}`
        fail(
          status === 'connecting'
            ? new IpcStateError(
                ErrorCode.SERVER_UNAVAILABLE,
                `No server answered at ${path} after ${failures} attempts (option connectAttempts)${reason}`,
                { cause: lastFailure },
              )
            : new IpcStateError(
                ErrorCode.CONNECTION_CLOSED,
                `Lost the connection to ${path} and ${failures} attempts to restore it failed (option reconnectAttempts)${reason}`,
                { cause: lastFailure },
              ),
        )
        return
      }
    }
    // Retries are numbered from 0 in each phase: connecting retries after its first failure,
    // reconnecting right after the loss. A server that said it is closing is being replaced: the
    // first retry then goes at once.
    const retry = status === 'connecting' ? failures - 1 : failures
    const wait = serverClosing && retry === 0 ? 0 : Math.max(0, retryDelay(retry))
    // A status listener or the delay function may have closed the client meanwhile.
    if (!isClosed()) retryTimer = setTimeout(open, wait)
  }

  function fail(error: IpcStateError): void {
    if (status === 'closed') return
    setStatus('closed')
    signal?.removeEventListener('abort', onAbort)
    clearTimeout(retryTimer)
    const current = connection
    connection = undefined
    current?.close()
    settleConnect?.reject(error)
    settleConnect = undefined
    for (const call of [...pending.values()]) call.reject(error)
    pending.clear()
    unsent = []
    replica.releaseAll()
  }

  /** Says where the wait stood, so a timeout during an outage reads as one. */
  function timeoutError(callTimeout: number, appliedAt: number | undefined): IpcStateError {
    const data = { timeout: callTimeout, status, ...(appliedAt === undefined ? {} : { version: appliedAt }) }
    if (appliedAt !== undefined) {
      return new IpcStateError(
        ErrorCode.TIMEOUT,
        `${path} applied the call at version ${appliedAt}, but the replica did not show it within ${callTimeout} ms (option timeout)`,
        { data },
      )
    }
    const where =
      status === 'connected'
        ? 'while connected'
        : `while ${status}${lastFailure === undefined ? '' : `; last connection error: ${lastFailure.message}`}`
    return new IpcStateError(ErrorCode.TIMEOUT, `No answer from ${path} within ${callTimeout} ms (option timeout), ${where}`, {
      data,
      ...(status !== 'connected' && lastFailure !== undefined ? { cause: lastFailure } : {}),
    })
  }

  function request(kind: Pending['kind'], type: string, data: Record<string, unknown>, callOptions: CallOptions = {}) {
    const callSignal = callOptions.signal
    return new Promise<unknown>((resolve, reject) => {
      // Inside the executor: a bad option rejects the call instead of throwing at the caller.
      const callTimeout = timeoutOption('timeout', callOptions.timeout, timeout)
      if (status === 'closed') {
        reject(new IpcStateError(ErrorCode.CLIENT_CLOSED, `The client of ${path} is closed`))
        return
      }
      if (callSignal?.aborted) {
        reject(abortError(callSignal))
        return
      }
      const id = nextId++
      let timer: ReturnType<typeof setTimeout> | undefined
      let done = false
      /** Set once the server answered: only the wait for the replica to show that version is left. */
      let appliedAt: number | undefined
      const settle = (): boolean => {
        if (done) return false
        done = true
        clearTimeout(timer)
        callSignal?.removeEventListener('abort', onCallAbort)
        return true
      }
      // Stops waiting, from the caller's side: the call leaves the queue if it is still there.
      const forget = (error: IpcStateError) => {
        if (!settle()) return
        takePending(id)
        reject(error)
      }
      const onCallAbort = () => forget(abortError(callSignal!))
      pending.set(id, {
        id,
        kind,
        frame: encodeFrame(type, { id, ...data }),
        sent: false,
        resolve: (value) => {
          if (settle()) resolve(value)
        },
        reject: (error) => {
          if (settle()) reject(error)
        },
        awaitVersion: (version) => {
          appliedAt = version
        },
      })
      if (callTimeout !== Number.POSITIVE_INFINITY) {
        timer = setTimeout(() => forget(timeoutError(callTimeout, appliedAt)), callTimeout)
      }
      callSignal?.addEventListener('abort', onCallAbort, { once: true })
      unsent.push(id)
      pump()
    })
  }

  function call(action: string, input: unknown, callOptions?: CallOptions): Promise<unknown> {
    if (typeof action !== 'string') return Promise.reject(new TypeError('action must be a string'))
    return request('action', ClientMessageType.ActionCall, input === undefined ? { action } : { action, input }, callOptions)
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

  function requireReplica(): void {
    if (!wantsReplica) throw new Error(`This client of ${path} was connected with replica: false; use getState()`)
  }

  function subscribe(...args: unknown[]): () => void {
    requireReplica()
    if (args.length === 1 && typeof args[0] === 'function') {
      return replica.subscribe(args[0] as StateListener<StateOf<T>>)
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
    let selected = selector(replica.state)
    if (subscribeOptions.immediate === true) {
      listener(selected, selected, { reason: 'resync', version: replica.version, epoch: replica.epoch })
    }
    return replica.subscribe((state, info) => {
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
      fail(new IpcStateError(ErrorCode.CLIENT_CLOSED, `The client of ${path} was closed`))
    })()
    return closed
  }

  const client: IpcStateClient<T> = {
    clientId,
    path,
    get status() {
      return status
    },
    get state() {
      requireReplica()
      return replica.state as DeepReadonly<StateOf<T>>
    },
    get version() {
      return wantsReplica ? replica.version : -1
    },
    get epoch() {
      return epoch
    },
    actions: actions as ClientActions<ActionsOf<T>>,
    call: call as IpcStateClient<T>['call'],
    getState: (callOptions) => request('state', ClientMessageType.StateGet, {}, callOptions) as Promise<DeepReadonly<StateOf<T>>>,
    subscribe: subscribe as IpcStateClient<T>['subscribe'],
    onStatusChange(listener) {
      statusListeners.add(listener)
      return () => {
        statusListeners.delete(listener)
      }
    },
    close,
    [Symbol.asyncDispose]: close,
  }

  open()
  return connected.then(() => client)
}
