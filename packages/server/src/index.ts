/**
 * `createServer` and `closeOnSignals`, its transports and their seam's types, the file storage, the storage seam's types, and the metrics' meter types.
 * @module @ipc-state/server
 */
export { createServer } from './server.js'
export type {
  CreateServerOptions,
  ServerCoreOptions,
  TransportServerOptions,
  UnixSocketServerOptions,
} from './server-options.js'
export { unixSocketTransport } from './transport/ipc-transport.js'
export type { UnixSocketTransportOptions } from './transport/ipc-transport.js'
export { messagePortTransport } from './transport/message-port-transport.js'
export type { MessagePortTransport, MessagePortTransportOptions, ServerMessagePort } from './transport/message-port-transport.js'
export type {
  ConnectionEvents,
  Transport,
  TransportConnection,
  TransportHandlers,
  TransportServer,
} from './transport/transport.js'
export type { IpcStateServer, ServerActions } from './server.js'
export type {
  MeterProviderLike,
  MetricAttributes,
  MetricCounter,
  MetricHistogram,
  MetricInstrumentOptions,
  MetricMeter,
  MetricObservable,
  MetricObservableResult,
} from './metrics/meter-provider.js'
export { closeOnSignals } from './close-on-signals.js'
export type { CloseOnSignalsOptions, ShutdownSignal } from './close-on-signals.js'
export { action, defineStore, ErrorCode, IpcStateError, isIpcStateError, RETRYABLE_ERROR_CODES } from '@ipc-state/protocol'
export type { ActionContext, ActionsOf, DeepReadonly, Logger, SchemaAction, StateOf, StoreDefinition } from '@ipc-state/protocol'
export { consoleLogger, pinoLogger } from '@ipc-state/protocol'
export { fileStorage } from './storage/file/file-storage.js'
export type { FileStorageOptions, FsyncMode } from './storage/file/file-storage-options.js'
export type {
  ExternalUpdate,
  MigratedImage,
  Storage,
  StorageContext,
  StorageEntry,
  StoredAnswer,
  StoredInstance,
  StoredLog,
  PresenceMark,
  PresentInstance,
  ServerLeases,
  StoreImage,
  WriteConflict,
} from './storage/storage.js'
export type { CallRelay, RelayedCall, RelayedReply, RelayTarget } from './storage/call-relay.js'
export { readPresent, readStoredInstances } from './storage/stored-record.js'
