// How the client's messages go on the wire: the bytes of each frame, and whether the server will read it.
import { ErrorCode, IpcStateError } from '@ipc-state/protocol'
import type { ClientConnection } from '../transport/client-transport.js'
import {
  BINARY_HEADER_BYTES,
  ClientMessageType,
  FRAME_DELIMITER,
  encodeBinaryFrame,
  encodeClientMessage,
  type ClientMessage,
  utf8ByteLength,
} from '@ipc-state/protocol/wire'

const utf8 = new TextEncoder()
const DELIMITER_BYTES = utf8.encode(FRAME_DELIMITER).length

/**
 * One encoded message: JSON text, which the transport encodes with the rest of its tick's text, or
 * a binary frame (a header and MessagePack).
 */
export type ClientFrame = { readonly binary: false; readonly text: string } | { readonly binary: true; readonly bytes: Uint8Array }

/** Action names as JSON, made once each: most clients call a handful of actions many times. */
const actionNames = new Map<string, string>()
const MAX_CACHED_NAMES = 1_000

/**
 * An action call as JSON text, byte for byte what `encodeClientMessage` writes, with only its input
 * encoded per call: the hot path of every call.
 */
function encodeActionCall(id: number, action: string, input: unknown): string {
  let name = actionNames.get(action)
  if (name === undefined) {
    name = JSON.stringify(action)
    if (actionNames.size < MAX_CACHED_NAMES) actionNames.set(action, name)
  }
  // `undefined` for no input, or one JSON leaves out (a function): the key is left out then too.
  const inputJson = input === undefined ? undefined : JSON.stringify(input)
  const field = inputJson === undefined ? '' : `,"input":${inputJson}`
  return `{"type":"${ClientMessageType.ActionCall}","data":{"id":${id},"action":${name}${field}}}${FRAME_DELIMITER}`
}

/** `message` as a JSON text frame: what every server reads. */
export function textFrame(message: ClientMessage): ClientFrame & { binary: false } {
  const text =
    message.type === ClientMessageType.ActionCall
      ? encodeActionCall(message.data.id, message.data.action, message.data.input)
      : encodeClientMessage(message)
  return { binary: false, text }
}

/** `message` as a JSON text frame, in bytes. */
export const textBytes = (message: ClientMessage): Uint8Array => utf8.encode(textFrame(message).text)

/** Whether a message may be large enough for a binary frame: an action call with a number, say, never is. */
function mayBeLarge(message: ClientMessage): boolean {
  if (message.type !== ClientMessageType.ActionCall) return true
  const { input } = message.data
  return typeof input === 'object' ? input !== null : typeof input === 'string'
}

/**
 * `message` as a binary frame when the connection takes them (`binary`) and the message is large
 * enough to gain from it, else as JSON text.
 */
export function requestFrame(message: ClientMessage, binary: boolean): ClientFrame {
  const bytes = binary && mayBeLarge(message) ? encodeBinaryFrame(message) : undefined
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
  // A UTF-8 character takes at most 3 bytes per UTF-16 unit: most text is surely within the limit.
  if (!frame.binary && frame.text.length * 3 <= limit) return undefined
  const size = frame.binary ? frame.bytes.length - BINARY_HEADER_BYTES : utf8ByteLength(frame.text) - DELIMITER_BYTES
  if (size <= limit) return undefined
  return new IpcStateError(
    ErrorCode.FRAME_TOO_LARGE,
    `The request takes ${size} bytes, more than the ${limit} bytes ${path} reads in one frame (its option maxFrameBytes): it was not sent`,
    { data: { limit, size } },
  )
}

/** Writes `frame` on `connection`: text as it is to a transport that takes text, else as bytes. */
export function sendFrame(connection: ClientConnection, frame: ClientFrame): void {
  if (frame.binary) connection.write(frame.bytes)
  else if (connection.writeText !== undefined) connection.writeText(frame.text)
  else connection.write(utf8.encode(frame.text))
}
