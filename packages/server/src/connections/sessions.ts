import { ErrorCode, IpcStateError, type Logger, type ServerInfoResult, toIpcStateError } from '@ipc-state/protocol'
import {
  ClientMessageType,
  PROTOCOL_VERSION,
  ServerMessageType,
  decodeClientMessage,
  maxFrameContainers,
  encodeServerMessage,
  type ActionCallRequest,
  type HelloRequest,
  type HelloResult,
  type StateGetResult,
  type WireFrame,
} from '@ipc-state/protocol/wire'
import type { CallRecord } from '../calls/call-record.js'
import { describeServer } from './server-info.js'
import type { CommitPipeline } from '../calls/commit-pipeline.js'
import type { FanOut } from './fan-out.js'
import type { MemoryBudget } from './memory-budget.js'
import { Session, encodeProtocolError } from './session.js'
import type { StateFrames, SnapshotFrame } from './state-frames.js'
import type { ConnectionEvents, TransportConnection } from '../transport/transport.js'

/** The limits {@link Sessions} enforces. */
export interface SessionsSettings {
  /** The socket path, for messages. */
  path: string
  maxConnections: number
  maxInFlight: number
  maxFrameBytes: number
  maxDepth: number
  maxBufferedBytes: number
  maxTotalBufferedBytes: number
  frameTimeout: number
  handshakeTimeout: number
  logger: Logger
}

/** What {@link Sessions} needs from the rest of the server. */
export interface SessionsOptions {
  settings: SessionsSettings
  /** The state as it is now. */
  store: { readonly epoch: string; readonly version: number; readonly state: unknown }
  /** The state encoded once per version, for every snapshot sent. */
  snapshots: StateFrames
  /** The server-wide bounds on queued output and unfinished input. */
  budget: MemoryBudget
  /** Where a greeted client's instance gets its answers. */
  record: CallRecord<Session>
  /** Where a replica gets its changes. */
  fanOut: FanOut<Session>
  /** Where a new client instance's record waits to be durable before its hello is answered. */
  pipeline: CommitPipeline
  /** Takes an action call from a greeted session. */
  call(session: Session, request: ActionCallRequest): void
  /** Whether the server is closing. */
  isClosing(): boolean
  /** What the server counted since it started, for `server/info`. */
  counters(): ServerInfoResult['counters']
  /** When the server started, as `performance.now()` read it. */
  startedAt: number
}

/**
 * Every connection the server serves: accepting it (or refusing it past `maxConnections` or while
 * closing), its handshake, and the dispatch of each frame it sends. Action calls go on to
 * `action-calls.ts`.
 */
export class Sessions {
  readonly #options: SessionsOptions
  readonly #settings: SessionsSettings
  readonly #served = new Set<Session>()
  /** Sessions whose hello waits for their instance's record to be stored. */
  readonly #greeting = new WeakSet<Session>()

  constructor(options: SessionsOptions) {
    this.#options = options
    this.#settings = options.settings
  }

  /** Connections served now. */
  get size(): number {
    return this.#served.size
  }

  /** Takes a new connection from the transport. */
  accept(connection: TransportConnection): ConnectionEvents {
    const { path, maxConnections, maxFrameBytes, maxBufferedBytes, frameTimeout, handshakeTimeout, logger } = this.#settings
    const { budget } = this.#options
    const session = new Session(connection, {
      maxFrameBytes,
      maxBufferedBytes,
      frameTimeout,
      handshakeTimeout,
      budget,
      logger,
      onEnd: (ended) => {
        this.#served.delete(ended)
        this.#options.fanOut.delete(ended)
        budget.leave(ended)
      },
    })
    if (this.#options.isClosing()) {
      session.refuse(new IpcStateError(ErrorCode.SERVER_CLOSING, `The server at ${path} is closing`))
    } else if (this.#served.size >= maxConnections) {
      session.refuse(
        new IpcStateError(
          ErrorCode.TOO_MANY_CONNECTIONS,
          `The server at ${path} already serves ${maxConnections} connections (option maxConnections)`,
        ),
      )
    } else {
      this.#served.add(session)
      budget.join(session)
    }
    return {
      data: (chunk) => {
        for (const frame of session.read(chunk)) {
          if (!session.open) return
          this.#guardedDispatch(session, frame)
        }
      },
      drain: () => session.drain(),
      close: () => {
        session.closed()
        // A newer connection of the same instance keeps its place (see CallRecord.detach).
        if (session.instanceId !== undefined) this.#options.record.detach(session.instanceId, session)
      },
    }
  }

  /** Tells every session the server is going away and stops serving them all. */
  closeAll(reason: string): void {
    const goodbye = encodeServerMessage({ type: ServerMessageType.ServerClosing, data: { reason } })
    for (const session of this.#served) session.sayGoodbye(goodbye)
  }

  /**
   * Nothing a frame leads to may throw out of the transport's callback, where it would end the
   * process: whatever escapes is logged, and the frame answered with `INTERNAL_ERROR`.
   */
  #guardedDispatch(session: Session, frame: WireFrame): void {
    try {
      this.#dispatch(session, frame)
    } catch (thrown) {
      const error = toIpcStateError(thrown)
      this.#settings.logger.error?.('a request failed inside the server', { code: error.code, reason: error.message })
      const internal = new IpcStateError(ErrorCode.INTERNAL_ERROR, `The server failed to handle a request: ${error.message}`)
      session.send(encodeProtocolError(internal, false))
    }
  }

  #dispatch(session: Session, frame: WireFrame): void {
    const { maxDepth, maxFrameBytes } = this.#settings
    const decoded = decodeClientMessage(frame, { maxDepth, maxContainers: maxFrameContainers(maxFrameBytes) })
    if (!decoded.ok) {
      // A frame that holds more objects than its size allows is refused as a frame too large is.
      if (decoded.error.code === ErrorCode.FRAME_TOO_LARGE) {
        session.refuse(decoded.error)
        return
      }
      if (decoded.id === undefined) session.send(encodeProtocolError(decoded.error, false))
      else session.fail(decoded.id, decoded.error)
      return
    }
    const { message } = decoded
    const { store } = this.#options
    switch (message.type) {
      case ClientMessageType.SeedGetSharedData:
        // The seed's message has no id to answer with an error: a failure is a protocol/error.
        try {
          session.sendSnapshot(this.#options.snapshots.frame((state) => ({ type: ServerMessageType.SeedSharedData, data: state })))
        } catch (error) {
          session.send(encodeProtocolError(toIpcStateError(error), false))
          return
        }
        // The seed's client never says hello: an answered request is its introduction.
        session.introduced()
        return
      case ClientMessageType.Hello:
        this.#hello(session, message.data)
        return
      case ClientMessageType.StateGet: {
        if (session.clientId === undefined) {
          notGreeted(session, message.data.id)
          return
        }
        const { id } = message.data
        const { epoch, version } = store
        try {
          session.sendSnapshot(
            this.#options.snapshots.frame((state) => {
              const result: StateGetResult = { epoch, version, state }
              return { type: ServerMessageType.Response, data: { id, result } }
            }),
          )
        } catch (error) {
          session.fail(id, toIpcStateError(error))
        }
        return
      }
      case ClientMessageType.ActionCall:
        if (session.clientId === undefined) {
          notGreeted(session, message.data.id)
          return
        }
        this.#options.call(session, message.data)
        return
      case ClientMessageType.ServerInfo:
        if (session.clientId === undefined) {
          notGreeted(session, message.data.id)
          return
        }
        session.respond(
          message.data.id,
          describeServer({
            settings: this.#settings,
            store: this.#options.store,
            served: this.#served,
            startedAt: this.#options.startedAt,
            counters: this.#options.counters,
          }),
        )
        return
    }
  }

  #hello(session: Session, hello: HelloRequest): void {
    const { path } = this.#settings
    if (hello.protocol !== PROTOCOL_VERSION) {
      const error = new IpcStateError(
        ErrorCode.PROTOCOL_MISMATCH,
        `Client speaks protocol ${hello.protocol}, server at ${path} speaks ${PROTOCOL_VERSION}`,
        { data: { client: hello.protocol, server: PROTOCOL_VERSION } },
      )
      session.fail(hello.id, error)
      session.refuse(error)
      return
    }
    if (session.clientId !== undefined || this.#greeting.has(session)) {
      session.fail(hello.id, new IpcStateError(ErrorCode.BAD_REQUEST, '"hello" was already sent on this connection'))
      return
    }
    // Taken: the handshake clock stops here, not at the answer, which may wait on the storage.
    session.introduced()
    const { record, pipeline } = this.#options
    const instanceId = hello.instanceId ?? hello.clientId
    const since = record.unpersisted(instanceId, hello.id)
    if (since === undefined) {
      this.#greet(session, hello, instanceId)
      return
    }
    // A new instance: its record must be durable before it may send a call, so that a call it
    // resends after a restart is known. Greeted even if that write failed: it can read, and its
    // next hello tries again.
    this.#greeting.add(session)
    pipeline.add(
      { kind: 'instance', instanceId, since },
      () => {
        this.#greeting.delete(session)
        if (this.#greet(session, hello, instanceId)) record.persisted(instanceId, since)
      },
      () => {
        this.#greeting.delete(session)
        this.#greet(session, hello, instanceId)
      },
    )
  }

  /**
   * Answers a hello with the server's epoch and version, and a replica's with the state too, and
   * makes the session the one its instance's answers go to.
   * @returns whether it was greeted: not when it closed meanwhile, or its snapshot failed
   */
  #greet(session: Session, hello: HelloRequest, instanceId: string): boolean {
    if (!session.open) return false
    const { store, fanOut, snapshots, record } = this.#options
    const answer = (state?: unknown): HelloResult => ({
      protocol: PROTOCOL_VERSION,
      epoch: store.epoch,
      version: store.version,
      ...(hello.replica ? { state } : {}),
      ...(hello.binary === true ? { binary: true } : {}),
      maxFrameBytes: this.#settings.maxFrameBytes,
    })
    let snapshot: SnapshotFrame | undefined
    if (hello.replica) {
      try {
        snapshot = snapshots.frame((state) => ({ type: ServerMessageType.Response, data: { id: hello.id, result: answer(state) } }))
      } catch (error) {
        // Not greeted: the client tries again on a new connection.
        session.fail(hello.id, toIpcStateError(error))
        return false
      }
    }
    session.clientId = hello.clientId
    session.instanceId = instanceId
    record.attach(instanceId, session, hello.id)
    session.replica = hello.replica
    session.binary = hello.binary === true
    if (hello.replica) fanOut.add(session)
    if (snapshot === undefined) session.respond(hello.id, answer())
    else session.sendSnapshot(snapshot)
    return true
  }
}

function notGreeted(session: Session, id: number): void {
  session.fail(id, new IpcStateError(ErrorCode.BAD_REQUEST, 'Send "hello" before any other request'))
}
