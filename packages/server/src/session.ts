import {
  ErrorCode,
  FrameDecoder,
  IpcStateError,
  ServerMessageType,
  encodeServerMessage,
  toIpcStateError,
  type Logger,
} from '@ipc-state/protocol'
import { CLOSE_GRACE_MS, type TransportConnection } from './transport.js'

/** The answer to request `id` when it failed. */
export const encodeErrorResponse = (id: number, error: IpcStateError): string =>
  encodeServerMessage({ type: ServerMessageType.Response, data: { id, error: error.toWire() } })

/** An error that answers no request: the frame had no usable id, or the connection is being cut. */
export const encodeProtocolError = (error: IpcStateError, fatal: boolean): string =>
  encodeServerMessage({ type: ServerMessageType.ProtocolError, data: { error: error.toWire(), fatal } })

/** Options for a {@link Session}. */
export interface SessionOptions {
  /** The largest frame the peer may send, in bytes. */
  maxFrameBytes: number
  /** Bytes that may queue for a peer that does not read before it is cut off. */
  maxBufferedBytes: number
  logger: Logger
  /** Called once when the server stops serving the session: it was refused, or it closed. */
  onEnd(session: Session): void
}

/**
 * One client connection: its framing, what it said in its handshake, what it has in flight, and
 * the one way everything is written to it. Refusing it sends a last `protocol/error` with the
 * reason, then closes it; a peer that stops reading is refused with `SLOW_CONSUMER`.
 */
export class Session {
  readonly connection: TransportConnection
  readonly #decoder: FrameDecoder
  readonly #options: SessionOptions
  #open = true
  /** Who the client says it is, once it said hello. */
  clientId: string | undefined = undefined
  /** Keys this client's record of answered calls. */
  instanceId: string | undefined = undefined
  /** Whether it keeps a replica and gets every change. */
  replica = false
  /** Action calls queued and not answered yet. */
  inFlight = 0

  constructor(connection: TransportConnection, options: SessionOptions) {
    this.connection = connection
    this.#options = options
    this.#decoder = new FrameDecoder({ maxFrameBytes: options.maxFrameBytes, byteLength: Buffer.byteLength })
  }

  /** Whether the server still reads from and writes to this session. */
  get open(): boolean {
    return this.#open
  }

  /**
   * Takes the next chunk the peer sent and returns the frames it completes. A frame past
   * `maxFrameBytes` loses the stream's framing: the session is refused and nothing more is read.
   */
  read(text: string): string[] {
    if (!this.#open) return []
    try {
      return this.#decoder.push(text)
    } catch (error) {
      this.refuse(toIpcStateError(error))
      return []
    }
  }

  /**
   * Writes one encoded frame, unless the peer has fallen too far behind: a peer that does not read
   * must not make the server's memory grow.
   */
  send(frame: string): void {
    if (!this.#open) return
    const { maxBufferedBytes } = this.#options
    if (this.connection.bufferedBytes > maxBufferedBytes) {
      this.refuse(
        new IpcStateError(
          ErrorCode.SLOW_CONSUMER,
          `The client fell more than ${maxBufferedBytes} bytes behind (option maxBufferedBytes)`,
        ),
      )
      return
    }
    this.connection.write(frame)
  }

  /** Answers request `id` with `result`. */
  respond(id: number, result: unknown): void {
    this.send(encodeServerMessage({ type: ServerMessageType.Response, data: { id, result } }))
  }

  /** Answers request `id` with `error`. */
  fail(id: number, error: IpcStateError): void {
    this.send(encodeErrorResponse(id, error))
  }

  /** Sends a last message, then closes: the peer gets its reason, and nothing more is read. */
  refuse(error: IpcStateError): void {
    if (!this.#end()) return
    this.#decoder.reset()
    this.#options.logger.warn?.('closing connection', { code: error.code, reason: error.message })
    this.connection.write(encodeProtocolError(error, true))
    this.connection.end()
    setTimeout(() => this.connection.destroy(), CLOSE_GRACE_MS).unref()
  }

  /**
   * Writes `frame` as the session's last message, whatever the peer's backlog: the server is going
   * away, and its transport closes the connection.
   */
  sayGoodbye(frame: string): void {
    if (!this.#end()) return
    this.connection.write(frame)
  }

  /** The transport reports the connection gone. */
  closed(): void {
    this.#end()
  }

  /** Stops serving; false when it had already stopped. */
  #end(): boolean {
    if (!this.#open) return false
    this.#open = false
    this.#options.onEnd(this)
    return true
  }
}
