// Reads what the server sends on one connection: frames out of the bytes, messages out of the frames.
import { ErrorCode, type IpcStateError } from '@ipc-state/protocol'
import {
  type ProtocolErrorNotification,
  type ResponseMessage,
  ServerMessageType,
  type StateChangedNotification,
  WireDecoder,
  type WireFrame,
  decodeServerMessage,
  maxFrameContainers,
} from '@ipc-state/protocol/wire'

// Node's own UTF-8 slice where there is one (the fastest); a page's TextDecoder elsewhere, where
// no Buffer exists.
const NodeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer
const pageText = NodeBuffer === undefined ? new TextDecoder() : undefined
const decodeText: (bytes: Uint8Array, start: number, end: number) => string =
  NodeBuffer !== undefined
    ? (bytes, start, end) => NodeBuffer.prototype.utf8Slice.call(bytes, start, end)
    : (bytes, start, end) => pageText!.decode(bytes.subarray(start, end))

/** What a {@link ServerReader} hands each message to, by kind. */
export interface ServerMessageHandlers {
  response(response: ResponseMessage): void
  change(change: StateChangedNotification): void
  /** The server announced it is closing: every call it took before this is answered. */
  closing(reason: string): void
  protocolError(notification: ProtocolErrorNotification): void
  /**
   * A frame that does not decode: it may have been the answer to request `id` (when it names one),
   * or a change.
   */
  malformed(error: IpcStateError, id: number | undefined): void
  /**
   * The stream cannot be read on: a frame too large or malformed framing. The connection must be
   * dropped; nothing more is read from this chunk.
   */
  broken(error: Error): void
  /** Whether the connection still counts: a handler may have dropped it, and then reading stops. */
  current(): boolean
}

/**
 * Reads one connection's bytes: JSON text and binary frames alike, each bounded by the client's
 * `maxFrameBytes` in bytes and in objects (see `maxFrameContainers`).
 */
export class ServerReader {
  readonly #decoder: WireDecoder
  readonly #maxContainers: number
  readonly #handlers: ServerMessageHandlers

  constructor(maxFrameBytes: number, handlers: ServerMessageHandlers) {
    this.#decoder = new WireDecoder({ maxFrameBytes, decodeText })
    this.#maxContainers = maxFrameContainers(maxFrameBytes)
    this.#handlers = handlers
  }

  /** Takes the next chunk the server sent, and hands over every message it completes, in order. */
  read(chunk: Uint8Array): void {
    const handlers = this.#handlers
    let frames: WireFrame[]
    try {
      frames = this.#decoder.push(chunk)
    } catch (error) {
      handlers.broken(error as Error)
      return
    }
    for (const frame of frames) {
      const decoded = decodeServerMessage(frame, { maxContainers: this.#maxContainers })
      if (!decoded.ok && decoded.error.code === ErrorCode.FRAME_TOO_LARGE) {
        // Refused before it was decoded whole, as a frame past the limit is.
        handlers.broken(decoded.error)
        return
      }
      if (!decoded.ok) {
        handlers.malformed(decoded.error, decoded.id)
        continue
      }
      const { message } = decoded
      switch (message.type) {
        case ServerMessageType.Response:
          handlers.response(message.data)
          break
        case ServerMessageType.Responses:
          for (const response of message.data) {
            handlers.response(response)
            if (!handlers.current()) return
          }
          break
        case ServerMessageType.StateChanged:
          handlers.change(message.data)
          break
        case ServerMessageType.ServerClosing:
          handlers.closing(message.data.reason)
          break
        case ServerMessageType.ProtocolError:
          handlers.protocolError(message.data)
          break
        case ServerMessageType.SeedSharedData:
          break
      }
      if (!handlers.current()) return
    }
  }
}
