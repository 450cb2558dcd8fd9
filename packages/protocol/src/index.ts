// Global declarations for `Symbol.asyncDispose` and `await using`: types only, nothing at run time.
import './disposable.js'

export {
  ErrorCode,
  RETRYABLE_ERROR_CODES,
  IpcStateError,
  isErrorCode,
  isRetryable,
  isIpcStateError,
  toIpcStateError,
  errorFromWire,
} from './errors.js'
export type { WireError, IpcStateErrorOptions } from './errors.js'
export {
  PROTOCOL_VERSION,
  ClientMessageType,
  SERVER_INFO_MAX_ACTIONS,
  SERVER_INFO_MAX_CONNECTIONS,
  SERVER_INFO_MAX_SCHEMA_BYTES,
  SERVER_INFO_MAX_SCHEMAS_BYTES,
  ServerMessageType,
} from './messages.js'
export type {
  Patch,
  PatchPath,
  RequestBase,
  HelloRequest,
  HelloResult,
  StateGetRequest,
  StateGetResult,
  ActionCallRequest,
  ActionCallResult,
  ServerInfoRequest,
  ServerInfoAction,
  ServerInfoConnection,
  ServerInfoResult,
  StateChangedNotification,
  ServerClosingNotification,
  ProtocolErrorNotification,
  ResponseMessage,
  ClientMessage,
  ServerMessage,
} from './messages.js'
export { FRAME_DELIMITER, DEFAULT_MAX_FRAME_BYTES, FrameDecoder, encodeFrame, utf8ByteLength } from './wire/frame.js'
export { encodeActionResult, encodeClientMessage, encodeServerMessage, encodeStateChanged } from './wire/encode.js'
export { Defaults, numberOption } from './defaults.js'
export type { NumberOptionRule } from './defaults.js'
export type { FrameDecoderOptions } from './wire/frame.js'
export { BINARY_FRAME_MARKER, BINARY_HEADER_BYTES, WireDecoder, writeBinaryHeader } from './wire/binary-frame.js'
export type { WireDecoderOptions, WireFrame } from './wire/binary-frame.js'
export { BINARY_MIN_BYTES, decodeBinaryBody, encodeBinaryFrame, jsonSize, packEnvelope, packValue } from './wire/json-pack.js'
export { FRAME_BYTES_PER_CONTAINER, maxFrameContainers } from './wire/frame-cost.js'
export {
  DEFAULT_MAX_DEPTH,
  MAX_NAME_LENGTH,
  decodeClientMessage,
  decodeServerMessage,
  isPatch,
  isRequestId,
  isWithinDepth,
} from './wire/validate.js'
export type { DecodeOptions, DecodeResult } from './wire/validate.js'
export { defineStore } from './define-store.js'
export type {
  ActionContext,
  ActionFunction,
  ActionMap,
  ActionInput,
  InputSchemas,
  StoreDefinition,
  DefineStoreOptions,
  StateOf,
  ActionsOf,
  CallArgs,
  CallResult,
  DeepReadonly,
} from './define-store.js'
export {
  DEFAULT_APPSPACE,
  DEFAULT_SOCKET_ROOT,
  defaultSocketRoot,
  maxUnixSocketPathBytes,
  resolveSocketPath,
  socketRootWarning,
} from './socket-path.js'
export type { SocketAddress, ResolveSocketPathOptions, DefaultSocketRootOptions, FolderStat } from './socket-path.js'
export { applyPatches, commitPatches, deepFreeze } from './apply-patches.js'
export type { CommittedPatches } from './apply-patches.js'
export type { AbortSignalLike } from './abort-signal.js'
export { consoleLogger, pinoLogger } from './logger.js'
export type { ConsoleLike, ConsoleLoggerOptions, Logger, LogLevel, PinoLikeLogger } from './logger.js'
