/**
 * The frames server and client exchange, their encoders and their checks.
 * @module @ipc-state/protocol/wire
 */
export { errorFromWire } from '../errors.js'
export type { WireError } from '../errors.js'
export { PROTOCOL_VERSION, ClientMessageType, ServerMessageType } from '../messages.js'
export {
  CHANGES_LIST_MAX,
  SERVER_INFO_MAX_ACTIONS,
  SERVER_INFO_MAX_CONNECTIONS,
  SERVER_INFO_MAX_SCHEMA_BYTES,
  SERVER_INFO_MAX_SCHEMAS_BYTES,
} from '../server-answers.js'
export type {
  RequestBase,
  HelloRequest,
  HelloResult,
  StateGetRequest,
  StateGetResult,
  ActionCallRequest,
  ActionCallResult,
  ServerInfoRequest,
  ChangesListRequest,
  StateChangedNotification,
  ServerClosingNotification,
  ProtocolErrorNotification,
  ResponseMessage,
  ClientMessage,
  ServerMessage,
} from '../messages.js'
export { FRAME_DELIMITER, DEFAULT_MAX_FRAME_BYTES, FrameDecoder, encodeFrame, utf8ByteLength } from './frame.js'
export type { FrameDecoderOptions } from './frame.js'
export {
  actionResultJson,
  encodeActionResult,
  encodeClientMessage,
  encodeResponse,
  encodeResponses,
  encodeServerMessage,
  encodeStateChanged,
  joinPatches,
} from './encode.js'
export type { ChangeFrameParts } from './encode.js'
export { BINARY_FRAME_MARKER, BINARY_HEADER_BYTES, WireDecoder, writeBinaryHeader } from './binary-frame.js'
export type { WireDecoderOptions, WireFrame } from './binary-frame.js'
export { BINARY_MIN_BYTES, decodeBinaryBody, encodeBinaryFrame, jsonSize, packEnvelope, packValue } from './json-pack.js'
export { FRAME_BYTES_PER_CONTAINER, maxFrameContainers } from './frame-cost.js'
export { DEFAULT_MAX_DEPTH, MAX_NAME_LENGTH, isRequestId, isWithinDepth } from './validate.js'
export { decodeClientMessage } from './decode-client.js'
export { decodeServerMessage, isPatch } from './decode-server.js'
export type { DecodeOptions, DecodeResult } from './validate.js'
export { WEB_SOCKET_PROTOCOL, WEB_SOCKET_TOKEN_PATTERN, WEB_SOCKET_TOKEN_PREFIX, webSocketProtocols } from './web-socket.js'
