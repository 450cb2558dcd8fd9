export { createServer } from './create-server.js'
export type { CreateServerOptions } from './server-options.js'
export type { IpcStateServer } from './start-server.js'
export { closeOnSignals } from './close-on-signals.js'
export type { CloseOnSignalsOptions, ShutdownSignal } from './close-on-signals.js'
export { defineStore, ErrorCode, IpcStateError, isIpcStateError, RETRYABLE_ERROR_CODES } from '@ipc-state/protocol'
export type { ActionContext, ActionsOf, DeepReadonly, Logger, StateOf, StoreDefinition } from '@ipc-state/protocol'
export { consoleLogger, pinoLogger } from '@ipc-state/protocol'
export { fileStorage } from './file-storage.js'
export type { FileStorageOptions, FsyncMode } from './file-storage-options.js'
export type {
  ExternalUpdate,
  LoadedStore,
  Storage,
  StorageContext,
  StorageEntry,
  StoredAnswer,
  StoredInstance,
  StoreImage,
  WriteConflict,
} from './storage.js'
