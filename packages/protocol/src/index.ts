/**
 * What applications import: stores, errors, patches, logging and shared defaults.
 * @module @ipc-state/protocol
 */
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
} from './errors.js'
export type { IpcStateErrorOptions } from './errors.js'
export type { Patch, PatchPath } from './messages.js'
export type {
  ChangesListResult,
  RecentChange,
  ServerInfoAction,
  ServerInfoConnection,
  ServerInfoResult,
} from './server-answers.js'
export { defineStore } from './define-store.js'
export { action } from './action.js'
export type { SchemaAction } from './action.js'
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
  ClientJoin,
  ClientLeave,
  LeaveReason,
  PresenceHook,
} from './define-store.js'
export { applyPatches, commitPatches, deepFreeze } from './apply-patches.js'
export type { CommittedPatches } from './apply-patches.js'
export { Defaults, numberOption } from './defaults.js'
export type { NumberOptionRule } from './defaults.js'
export type { AbortSignalLike } from './abort-signal.js'
export { consoleLogger, pinoLogger } from './logger.js'
export type { ConsoleLike, ConsoleLoggerOptions, Logger, LogLevel, PinoLikeLogger } from './logger.js'
