import {
  ClientMessageType,
  DEFAULT_APPSPACE,
  DEFAULT_MAX_DEPTH,
  DEFAULT_SOCKET_ROOT,
  DEFAULT_MAX_FRAME_BYTES,
  ErrorCode,
  FrameDecoder,
  IpcStateError,
  PROTOCOL_VERSION,
  ServerMessageType,
  decodeClientMessage,
  encodeFrame,
  resolveSocketPath,
  socketRootWarning,
  toIpcStateError,
  type ActionCallRequest,
  type ActionMap,
  type DeepReadonly,
  type HelloRequest,
  type HelloResult,
  type Logger,
  type SocketAddress,
  type StateGetResult,
  type StoreDefinition,
} from '@ipc-state/protocol'
import { CLOSE_GRACE_MS, listenIpc, type TransportConnection, type TransportServer } from './ipc-transport.js'
import { claimAndListen, prepareSocketRoot, removeSocketFile } from './socket-file.js'
import { StoreRuntime } from './store-runtime.js'

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
   * How many recent action results are kept per client instance, so a call resent after a
   * reconnect is answered from the record instead of being applied twice.
   * @default 1024
   */
  dedupWindow?: number
  /**
   * How many client instances have their recent results kept; the least recently active are
   * forgotten.
   * @default 1024
   */
  maxRememberedClients?: number
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

interface Session {
  readonly connection: TransportConnection
  readonly decoder: FrameDecoder
  clientId: string | undefined
  /** Keys this client's record of answered calls. */
  instanceId: string | undefined
  replica: boolean
  inFlight: number
  open: boolean
}

interface Job {
  session: Session
  clientId: string
  instanceId: string
  request: ActionCallRequest
  input: unknown
}

const positive = (name: string, value: number | undefined, fallback: number): number => {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value < 1) throw new TypeError(`${name} must be a positive integer, got ${String(value)}`)
  return value
}

const responseFrame = (id: number, resultJson: string): string =>
  `{"type":"${ServerMessageType.Response}","data":{"id":${id},"result":${resultJson}}}\f`

const errorFrame = (id: number, error: IpcStateError): string =>
  encodeFrame(ServerMessageType.Response, { id, error: error.toWire() })

const protocolErrorFrame = (error: IpcStateError, fatal: boolean): string =>
  encodeFrame(ServerMessageType.ProtocolError, { error: error.toWire(), fatal })

/**
 * Starts a server that owns `store`'s state and serves it at node-ipc's path
 * `socketRoot + appspace + id`. Creates `socketRoot` (mode 0700) when missing.
 *
 * @example
 * ```ts
 * await using server = await createServer({ store: demoStore, socketRoot: '/tmp/cem/', appspace: 'ipc-ogreniyorum', id: 'server-socket' })
 * ```
 * @throws TypeError when an option is invalid
 * @throws IpcStateError `PATH_TOO_LONG`, `UNSAFE_SOCKET_ROOT`, `NOT_A_SOCKET`, `ADDRESS_IN_USE`, `LISTEN_FAILED`
 */
export async function createServer<S extends object, A extends ActionMap<S>>(
  options: CreateServerOptions<S, A>,
): Promise<IpcStateServer<S>> {
  const { store, logger = {} } = options
  if (typeof store !== 'object' || store === null || typeof store.actions !== 'object') {
    throw new TypeError('store must be a store definition made by defineStore')
  }
  const maxFrameBytes = positive('maxFrameBytes', options.maxFrameBytes, DEFAULT_MAX_FRAME_BYTES)
  const maxDepth = positive('maxDepth', options.maxDepth, DEFAULT_MAX_DEPTH)
  const maxConnections = positive('maxConnections', options.maxConnections, 1024)
  const maxInFlight = positive('maxInFlight', options.maxInFlight, 1024)
  const maxBufferedBytes = positive('maxBufferedBytes', options.maxBufferedBytes, 64 * 1024 * 1024)
  const dedupWindow = positive('dedupWindow', options.dedupWindow, 1024)
  const maxRememberedClients = positive('maxRememberedClients', options.maxRememberedClients, 1024)
  const socketMode = options.socketMode ?? 0o600
  const path = resolveSocketPath({ ...options, platform: process.platform })
  const rootWarning = socketRootWarning(options.socketRoot)
  if (rootWarning !== undefined) logger.warn?.(rootWarning, { socketRoot: options.socketRoot, path })

  const runtime = new StoreRuntime(store)
  const sessions = new Set<Session>()
  /** Recent action responses per client instance, as sent, oldest first. */
  const remembered = new Map<string, Map<number, string>>()
  /** Calls taken but not answered yet, as `instanceId` + NUL + id: a resend must not queue them again. */
  const unanswered = new Set<string>()
  /** The connection each client instance uses now: answers go there, even for a call an earlier
   * connection of the same instance sent. */
  const instances = new Map<string, Session>()
  const queue: Job[] = []
  let draining = false
  let drained: (() => void) | undefined
  let closing: Promise<void> | undefined

  const listen = (listenPath: string) =>
    listenIpc({
      path: listenPath,
      // node-ipc's limit is only a backstop: ours answers with a reason.
      maxConnections: maxConnections + 64,
      handlers: {
        connection: onConnection,
        // A peer that goes away mid-write is ordinary; anything else is worth a warning.
      error: (error: NodeJS.ErrnoException) =>
        error.code === 'EPIPE' || error.code === 'ECONNRESET'
          ? logger.debug?.('connection error', { error: error.message })
          : logger.warn?.('transport error', { error: error.message }),
      },
    })
  let transport: TransportServer
  let inode: number | undefined
  if (process.platform === 'win32') {
    // Named pipes leave no file behind. node-ipc's server turns the plain path into a pipe name
    // itself on Windows (its client does not), so it gets the plain path there.
    transport = await listen((options.socketRoot ?? DEFAULT_SOCKET_ROOT) + (options.appspace ?? DEFAULT_APPSPACE) + options.id)
  } else {
    await prepareSocketRoot(path, options.allowUnsafeSocketRoot === true)
    ;({ server: transport, inode } = await claimAndListen(path, socketMode, listen))
  }
  logger.info?.('listening', { path, epoch: runtime.epoch })

  function onConnection(connection: TransportConnection) {
    const session: Session = {
      connection,
      decoder: new FrameDecoder({ maxFrameBytes, byteLength: Buffer.byteLength }),
      clientId: undefined,
      instanceId: undefined,
      replica: false,
      inFlight: 0,
      open: true,
    }
    if (closing !== undefined) {
      refuse(session, new IpcStateError(ErrorCode.SERVER_CLOSING, `The server at ${path} is closing`))
    } else if (sessions.size >= maxConnections) {
      refuse(
        session,
        new IpcStateError(
          ErrorCode.TOO_MANY_CONNECTIONS,
          `The server at ${path} already serves ${maxConnections} connections (option maxConnections)`,
        ),
      )
    } else {
      sessions.add(session)
    }
    return {
      data: (text: string) => onData(session, text),
      close: () => {
        session.open = false
        sessions.delete(session)
        if (session.instanceId !== undefined && instances.get(session.instanceId) === session) {
          instances.delete(session.instanceId)
        }
      },
    }
  }

  /** Sends a last message, then closes: the peer gets its reason, and nothing more is read. */
  function refuse(session: Session, error: IpcStateError): void {
    if (!session.open) return
    session.open = false
    sessions.delete(session)
    session.decoder.reset()
    logger.warn?.('closing connection', { code: error.code, reason: error.message })
    session.connection.write(protocolErrorFrame(error, true))
    session.connection.end()
    setTimeout(() => session.connection.destroy(), CLOSE_GRACE_MS).unref()
  }

  function onData(session: Session, text: string): void {
    if (!session.open) return
    let frames: string[]
    try {
      frames = session.decoder.push(text)
    } catch (error) {
      refuse(session, toIpcStateError(error))
      return
    }
    for (const frame of frames) {
      if (!session.open) return
      onFrame(session, frame)
    }
  }

  function onFrame(session: Session, frame: string): void {
    const decoded = decodeClientMessage(frame, { maxDepth })
    if (!decoded.ok) {
      send(session, decoded.id === undefined ? protocolErrorFrame(decoded.error, false) : errorFrame(decoded.id, decoded.error))
      return
    }
    const { message } = decoded
    switch (message.type) {
      case ClientMessageType.SeedGetSharedData:
        send(session, encodeFrame(ServerMessageType.SeedSharedData, runtime.state))
        return
      case ClientMessageType.Hello:
        onHello(session, message.data)
        return
      case ClientMessageType.StateGet: {
        if (session.clientId === undefined) return notHelloed(session, message.data.id)
        const result: StateGetResult = { epoch: runtime.epoch, version: runtime.version, state: runtime.state }
        send(session, encodeFrame(ServerMessageType.Response, { id: message.data.id, result }))
        return
      }
      case ClientMessageType.ActionCall:
        if (session.clientId === undefined) return notHelloed(session, message.data.id)
        onActionCall(session, message.data)
        return
    }
  }

  function notHelloed(session: Session, id: number): void {
    send(session, errorFrame(id, new IpcStateError(ErrorCode.BAD_REQUEST, 'Send "hello" before any other request')))
  }

  function onHello(session: Session, hello: HelloRequest): void {
    if (hello.protocol !== PROTOCOL_VERSION) {
      const error = new IpcStateError(
        ErrorCode.PROTOCOL_MISMATCH,
        `Client speaks protocol ${hello.protocol}, server at ${path} speaks ${PROTOCOL_VERSION}`,
        { data: { client: hello.protocol, server: PROTOCOL_VERSION } },
      )
      send(session, errorFrame(hello.id, error))
      refuse(session, error)
      return
    }
    if (session.clientId !== undefined) {
      const error = new IpcStateError(ErrorCode.BAD_REQUEST, '"hello" was already sent on this connection')
      send(session, errorFrame(hello.id, error))
      return
    }
    session.clientId = hello.clientId
    session.instanceId = hello.instanceId ?? hello.clientId
    instances.set(session.instanceId, session)
    session.replica = hello.replica
    const result: HelloResult = {
      protocol: PROTOCOL_VERSION,
      epoch: runtime.epoch,
      version: runtime.version,
      ...(hello.replica ? { state: runtime.state } : {}),
    }
    send(session, encodeFrame(ServerMessageType.Response, { id: hello.id, result }))
  }

  function onActionCall(session: Session, request: ActionCallRequest): void {
    const clientId = session.clientId!
    const instanceId = session.instanceId!
    const previous = remembered.get(instanceId)?.get(request.id)
    if (previous !== undefined) {
      send(session, previous)
      return
    }
    // Still queued from before a reconnect (its input check was asynchronous): its answer will
    // come to this connection, the instance's current one.
    if (unanswered.has(`${instanceId}\0${request.id}`)) return
    if (closing !== undefined) {
      send(session, errorFrame(request.id, new IpcStateError(ErrorCode.SERVER_CLOSING, `The server at ${path} is closing`)))
      return
    }
    if (session.inFlight >= maxInFlight) {
      const error = new IpcStateError(
        ErrorCode.TOO_MANY_REQUESTS,
        `More than ${maxInFlight} requests in flight on one connection (option maxInFlight)`,
      )
      send(session, errorFrame(request.id, error))
      return
    }
    let input: unknown
    try {
      input = runtime.checkInput(request.action, request.input)
    } catch (error) {
      answer(instanceId, request.id, errorFrame(request.id, toIpcStateError(error)))
      return
    }
    if (input instanceof Promise) {
      // Settled into a value now, so a rejection is never left unhandled while it waits its turn.
      input = input.then(
        (value: unknown) => ({ value }),
        (error: unknown) => ({ error: toIpcStateError(error) }),
      )
    }
    session.inFlight += 1
    unanswered.add(`${instanceId}\0${request.id}`)
    queue.push({ session, clientId, instanceId, request, input })
    if (!draining) void drain()
  }

  /** Runs queued actions one at a time, in arrival order. */
  async function drain(): Promise<void> {
    draining = true
    while (queue.length > 0) {
      const job = queue.shift()!
      let input = job.input
      if (input instanceof Promise) {
        const settled = (await input) as { value?: unknown; error?: IpcStateError }
        if (settled.error !== undefined) {
          job.session.inFlight -= 1
          answer(job.instanceId, job.request.id, errorFrame(job.request.id, settled.error))
          continue
        }
        input = settled.value
      }
      run(job, input)
    }
    draining = false
    drained?.()
  }

  function run(job: Job, input: unknown): void {
    const { session, clientId, instanceId, request } = job
    session.inFlight -= 1
    let frame: string
    try {
      const applied = runtime.apply(request.action, input, clientId)
      if (applied.patches.length > 0) {
        broadcast(
          `{"type":"${ServerMessageType.StateChanged}","data":{"epoch":"${runtime.epoch}","version":${applied.version},"patches":${applied.patchesJson}}}\f`,
        )
      }
      const resultJson =
        applied.valueJson === undefined
          ? `{"version":${applied.version}}`
          : `{"value":${applied.valueJson},"version":${applied.version}}`
      frame = responseFrame(request.id, resultJson)
    } catch (error) {
      const failure = toIpcStateError(error, ErrorCode.ACTION_FAILED)
      logger.debug?.('action failed', { action: request.action, code: failure.code, reason: failure.message })
      frame = errorFrame(request.id, failure)
    }
    answer(instanceId, request.id, frame)
  }

  /**
   * Remembers an action's response for a resend of the same call, and sends it to the caller's
   * current connection.
   */
  function answer(instanceId: string, id: number, frame: string): void {
    unanswered.delete(`${instanceId}\0${id}`)
    let known = remembered.get(instanceId)
    if (known === undefined) {
      known = new Map()
      if (remembered.size >= maxRememberedClients) {
        remembered.delete(remembered.keys().next().value!)
      }
    } else {
      remembered.delete(instanceId)
    }
    // Re-inserting keeps the map in least-recently-active order.
    remembered.set(instanceId, known)
    known.set(id, frame)
    if (known.size > dedupWindow) known.delete(known.keys().next().value!)
    const session = instances.get(instanceId)
    if (session !== undefined) send(session, frame)
  }

  function broadcast(frame: string): void {
    for (const session of sessions) {
      if (session.replica) send(session, frame)
    }
  }

  /**
   * Writes to one connection, unless it has fallen too far behind: a peer that does not read must
   * not make the server's memory grow.
   */
  function send(session: Session, frame: string): void {
    if (!session.open) return
    if (session.connection.bufferedBytes > maxBufferedBytes) {
      refuse(
        session,
        new IpcStateError(
          ErrorCode.SLOW_CONSUMER,
          `The client fell more than ${maxBufferedBytes} bytes behind (option maxBufferedBytes)`,
        ),
      )
      return
    }
    session.connection.write(frame)
  }

  function close(): Promise<void> {
    closing ??= (async () => {
      if (draining) await new Promise<void>((resolve) => (drained = resolve))
      const goodbye = encodeFrame(ServerMessageType.ServerClosing, { reason: `The server at ${path} is closing` })
      for (const session of sessions) {
        session.open = false
        session.connection.write(goodbye)
      }
      sessions.clear()
      await transport.close()
      await removeSocketFile(path, inode)
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
