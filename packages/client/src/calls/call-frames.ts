// How the client's messages go on the wire: the bytes of each frame, and whether the server will read it.
import { ErrorCode, IpcStateError } from '@ipc-state/protocol'
import {
  BINARY_HEADER_BYTES,
  FRAME_DELIMITER,
  encodeBinaryFrame,
  encodeClientMessage,
  type ClientMessage,
} from '@ipc-state/protocol/wire'

const utf8 = new TextEncoder()
const DELIMITER_BYTES = utf8.encode(FRAME_DELIMITER).length

/** One encoded message, as the transport takes it. */
export interface ClientFrame {
  readonly bytes: Uint8Array
  /** Whether it is a binary frame (a header and MessagePack), not JSON text. */
  readonly binary: boolean
}

/** `message` as a JSON text frame, in bytes: what every server reads. */
export function textFrame(message: ClientMessage): ClientFrame {
  return { bytes: utf8.encode(encodeClientMessage(message)), binary: false }
}

/**
 * `message` as a binary frame when the connection takes them (`binary`) and the message is large
 * enough to gain from it, else as JSON text.
 */
export function requestFrame(message: ClientMessage, binary: boolean): ClientFrame {
  const bytes = binary ? encodeBinaryFrame(message) : undefined
  return bytes === undefined ? textFrame(message) : { bytes, binary: true }
}

/**
 * `FRAME_TOO_LARGE` when `frame` is larger than `limit`, the most a server reads in one frame;
 * otherwise `undefined`. The server counts a text frame without its delimiter, and a binary
 * frame's body alone.
 * @param path names the server in the error
 */
export function frameTooLarge(frame: ClientFrame, limit: number | undefined, path: string): IpcStateError | undefined {
  if (limit === undefined) return undefined
  const size = frame.bytes.length - (frame.binary ? BINARY_HEADER_BYTES : DELIMITER_BYTES)
  if (size <= limit) return undefined
  return new IpcStateError(
    ErrorCode.FRAME_TOO_LARGE,
    `The request takes ${size} bytes, more than the ${limit} bytes ${path} reads in one frame (its option maxFrameBytes): it was not sent`,
    { data: { limit, size } },
  )
}
