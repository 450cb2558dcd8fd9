import {
  ClientMessageType,
  ErrorCode,
  IpcStateError,
  PROTOCOL_VERSION,
  ServerMessageType,
  decodeClientMessage,
  encodeServerMessage,
  type ActionCallRequest,
  type HelloRequest,
  type HelloResult,
  type Logger,
  type StateGetResult,
} from '@ipc-state/protocol'
import type { CallRecord } from './call-record.js'
import type { FanOut } from './fan-out.js'
import { Session, encodeProtocolError } from './session.js'
import type { TransportConnection, TransportHandlers } from './transport.js'

/** The limits {@link Sessions} enforces. */
export interface SessionsSettings {
  /** The socket path, for messages. */
  path: string
  maxConnections: number
  maxFrameBytes: number
  maxDepth: number
  maxBufferedBytes: number
  logger: Logger
}

/** What {@link Sessions} needs from the rest of the server. */
export interface SessionsOptions {
  settings: SessionsSettings
  /** The state as it is now. */
  store: { readonly epoch: string; readonly version: number; readonly state: unknown }
  /** Where a greeted client's instance gets its answers. */
  record: CallRecord<Session>
  /** Where a replica gets its changes. */
  fanOut: FanOut<Session>
  /** Takes an action call from a greeted session. */
  call(session: Session, request: ActionCallRequest): void
  /** Whether the server is closing. */
  isClosing(): boolean
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

  constructor(options: SessionsOptions) {
    this.#options = options
    this.#settings = options.settings
  }

  /** Connections served now. */
  get size(): number {
    return this.#served.size
  }

  /** Takes a new connection from the transport. */
  accept(connection: TransportConnection): ReturnType<TransportHandlers['connection']> {
    const { path, maxConnections, maxFrameBytes, maxBufferedBytes, logger } = this.#settings
    const session = new Session(connection, {
      maxFrameBytes,
      maxBufferedBytes,
      logger,
      onEnd: (ended) => {
        this.#served.delete(ended)
        this.#options.fanOut.delete(ended)
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
    }
    return {
      data: (text) => {
        for (const frame of session.read(text)) {
          if (!session.open) return
          this.#dispatch(session, frame)
        }
      },
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

  #dispatch(session: Session, frame: string): void {
    const decoded = decodeClientMessage(frame, { maxDepth: this.#settings.maxDepth })
    if (!decoded.ok) {
      if (decoded.id === undefined) session.send(encodeProtocolError(decoded.error, false))
      else session.fail(decoded.id, decoded.error)
      return
    }
    const { message } = decoded
    const { store } = this.#options
    switch (message.type) {
      case ClientMessageType.SeedGetSharedData:
        session.send(encodeServerMessage({ type: ServerMessageType.SeedSharedData, data: store.state }))
        return
      case ClientMessageType.Hello:
        this.#hello(session, message.data)
        return
      case ClientMessageType.StateGet: {
        if (session.clientId === undefined) {
          notGreeted(session, message.data.id)
          return
        }
        const result: StateGetResult = { epoch: store.epoch, version: store.version, state: store.state }
        session.respond(message.data.id, result)
        return
      }
      case ClientMessageType.ActionCall:
        if (session.clientId === undefined) {
          notGreeted(session, message.data.id)
          return
        }
        this.#options.call(session, message.data)
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
    if (session.clientId !== undefined) {
      session.fail(hello.id, new IpcStateError(ErrorCode.BAD_REQUEST, '"hello" was already sent on this connection'))
      return
    }
    const { store, record, fanOut } = this.#options
    session.clientId = hello.clientId
    session.instanceId = hello.instanceId ?? hello.clientId
    record.attach(session.instanceId, session, hello.id)
    session.replica = hello.replica
    if (hello.replica) fanOut.add(session)
    const result: HelloResult = {
      protocol: PROTOCOL_VERSION,
      epoch: store.epoch,
      version: store.version,
      ...(hello.replica ? { state: store.state } : {}),
    }
    session.respond(hello.id, result)
  }
}

function notGreeted(session: Session, id: number): void {
  session.fail(id, new IpcStateError(ErrorCode.BAD_REQUEST, 'Send "hello" before any other request'))
}
