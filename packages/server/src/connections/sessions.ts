// Every connection the server serves: accepting or refusing it, and the dispatch of each frame it sends.
import {
  ClientMessageType,
  ServerMessageType,
  decodeClientMessage,
  maxFrameContainers,
  encodeServerMessage,
  type ActionCallRequest,
  type StateGetResult,
  type WireFrame,
} from '@ipc-state/protocol/wire'
import { ErrorCode, IpcStateError, type Logger, type ServerInfoResult, toIpcStateError } from '@ipc-state/protocol'
import type { ServerMetrics } from '../metrics/server-metrics.js'
import type { ActionCatalog } from '../state/action-catalog.js'
import type { ChangeHistory } from '../state/change-history.js'
import { describeServer } from './server-info.js'
import type { FanOut } from './fan-out.js'
import { Handshake, type InstanceRecord, type InstanceWrites, type PresenceEvents } from './handshake.js'
import type { MemoryBudget } from './memory-budget.js'
import { Session, encodeProtocolError } from './session.js'
import type { StateFrames } from './state-frames.js'
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
  record: InstanceRecord<Session>
  /** Where a replica gets its changes. */
  fanOut: FanOut<Session>
  /** Where a new client instance's record waits to be durable before its hello is answered. */
  pipeline: InstanceWrites
  /** Told when client instances connect, disconnect and say goodbye. */
  presence: PresenceEvents
  /** Takes an action call from a greeted session. */
  call(session: Session, request: ActionCallRequest): void
  /** Whether the server is closing. */
  isClosing(): boolean
  /** What the server counted since it started, for `server/info`. */
  counters(): ServerInfoResult['counters']
  /** When the server started, as `performance.now()` read it. */
  startedAt: number
  /** The store's actions, for `server/info`. */
  actions(): ActionCatalog
  /** Where resyncs are counted; none when the server measures nothing. */
  metrics?: ServerMetrics | undefined
  /** The last changes published, for `changes/list`; none when the server keeps no history. */
  history?: ChangeHistory | undefined
}

/**
 * Every connection the server serves: accepting it (or refusing it past `maxConnections` or while
 * closing), and the dispatch of each frame it sends. Hellos go on to `handshake.ts`, action calls to
 * `calls/action-calls.ts`.
 */
export class Sessions {
  readonly #options: SessionsOptions
  readonly #settings: SessionsSettings
  readonly #served = new Set<Session>()
  readonly #handshake: Handshake

  constructor(options: SessionsOptions) {
    this.#options = options
    this.#settings = options.settings
    const { path, maxFrameBytes } = options.settings
    const { store, snapshots, record, fanOut, pipeline, presence, metrics } = options
    this.#handshake = new Handshake({ path, maxFrameBytes, store, snapshots, record, fanOut, pipeline, presence, metrics })
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
      flushGathered: () => this.#options.fanOut.flush(),
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
          if (!session.open) break
          this.#guardedDispatch(session, frame)
        }
        // What this read led to goes out at the end of its callback, in the same write as what was
        // written directly (a hello's answer and the change its join made, say).
        this.#options.fanOut.flush()
      },
      drain: () => session.drain(),
      close: () => {
        session.closed()
        // A newer connection of the same instance keeps its place (see CallRecord.detach).
        if (session.instanceId !== undefined) {
          this.#options.record.detach(session.instanceId, session)
          this.#options.presence.disconnected(session.instanceId)
        }
      },
    }
  }

  /** Tells every session the server is going away and stops serving them all. */
  closeAll(reason: string): void {
    // The answers and changes of this turn go before the goodbye, which says every call was answered.
    this.#options.fanOut.flush()
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
        this.#handshake.hello(session, message.data)
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
          return
        }
        // What a replica that missed a change asks for.
        if (session.replica) this.#options.metrics?.resynced('request')
        return
      }
      case ClientMessageType.ActionCall:
        if (session.clientId === undefined) {
          notGreeted(session, message.data.id)
          return
        }
        this.#options.call(session, message.data)
        return
      case ClientMessageType.Bye:
        // From a connection that never said hello, there is no instance to leave.
        if (session.instanceId !== undefined) this.#options.presence.bye(session.instanceId)
        // Nothing it sends after is taken: a call after its leave would hold what nobody releases.
        // What this turn owes it goes first.
        this.#options.fanOut.flush()
        session.finish()
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
            actions: this.#options.actions,
          }),
        )
        return
      case ClientMessageType.ChangesList: {
        if (session.clientId === undefined) {
          notGreeted(session, message.data.id)
          return
        }
        const { history } = this.#options
        session.respond(
          message.data.id,
          history?.list(store.epoch, store.version) ?? { epoch: store.epoch, version: store.version, changes: [] },
        )
        return
      }
    }
  }
}

function notGreeted(session: Session, id: number): void {
  session.fail(id, new IpcStateError(ErrorCode.BAD_REQUEST, 'Send "hello" before any other request'))
}
