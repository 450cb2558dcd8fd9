// Errors as they go on the wire to a client: bounded in size, and never failing to encode.
import { ErrorCode, type IpcStateError } from '@ipc-state/protocol'
import {
  ServerMessageType,
  type ServerMessage,
  type WireError,
  encodeResponse,
  encodeServerMessage,
} from '@ipc-state/protocol/wire'

/** An error's message is cut to this many characters on the wire. */
const MAX_ERROR_MESSAGE = 2_000
/** An error's details (`data`) are left out past this many characters of JSON. */
const MAX_ERROR_DATA = 32 * 1024

/**
 * An error as it goes on the wire, bounded: its message cut, and its details left out when they
 * are too large or cannot be encoded, so that no error can make a huge answer or fail to encode.
 */
function boundedWire(error: IpcStateError): WireError {
  let message = error.message.length > MAX_ERROR_MESSAGE ? `${error.message.slice(0, MAX_ERROR_MESSAGE)}…` : error.message
  if (error.data === undefined) return { code: error.code, message }
  let json: string | undefined
  try {
    json = JSON.stringify(error.data)
  } catch (cause) {
    message += ` (details left out: ${cause instanceof Error ? cause.message : 'not JSON'})`
    return { code: error.code, message }
  }
  if (json === undefined) return { code: error.code, message }
  if (json.length > MAX_ERROR_DATA) return { code: error.code, message: `${message} (details left out: ${json.length} characters)` }
  return { code: error.code, message, data: error.data }
}

/** Encodes `build(wire)`; if that still fails, the same message with only a code and a fixed text. */
function encodeError(error: IpcStateError, build: (wire: WireError) => ServerMessage): string {
  try {
    return encodeServerMessage(build(boundedWire(error)))
  } catch {
    return encodeServerMessage(build({ code: ErrorCode.INTERNAL_ERROR, message: 'An error could not be encoded' }))
  }
}

/** The answer to request `id` when it failed. Never throws: the error is bounded first. */
export const encodeErrorResponse = (id: number, error: IpcStateError): string => encodeResponse(errorResponseJson(id, error))

/**
 * The data of the answer to request `id` when it failed, `{ id, error }`, as JSON: what a
 * `response` frame, a `responses` frame or a batched change carries. Never throws.
 */
export function errorResponseJson(id: number, error: IpcStateError): string {
  try {
    return JSON.stringify({ id, error: boundedWire(error) })
  } catch {
    return JSON.stringify({ id, error: { code: ErrorCode.INTERNAL_ERROR, message: 'An error could not be encoded' } })
  }
}

/** An error that answers no request: the frame had no usable id, or the connection is being cut. Never throws. */
export const encodeProtocolError = (error: IpcStateError, fatal: boolean): string =>
  encodeError(error, (wire) => ({ type: ServerMessageType.ProtocolError, data: { error: wire, fatal } }))
