/**
 * `connect`, its options and types, its transport seam, the MessagePort and WebSocket transports, and the errors it rejects with.
 * @module @ipc-state/client
 */
export { connect } from './node-connect.js'
export type { ClientActions, IpcStateClient } from './ipc-state-client.js'
export type {
  ClientCoreOptions,
  ConnectOptions,
  FailoverAddress,
  TransportConnectOptions,
  UnixSocketConnectOptions,
} from './client-options.js'
export type { ClientConnection, ClientConnectionHandlers, ClientTransport } from './transport/client-transport.js'
export { messagePortTransport } from './transport/message-port-transport.js'
export type { ClientMessagePort, MessagePortTransportOptions } from './transport/message-port-transport.js'
export { webSocketTransport } from './transport/web-socket-transport.js'
export type { WebSocketConstructor, WebSocketLike, WebSocketTransportOptions } from './transport/web-socket-transport.js'
export type { CallOptions } from './calls/queued-call.js'
export type { WaitForOptions } from './replica/wait-for.js'
export type { ClientStatus } from './client-status.js'
export { exponentialBackoff } from './backoff.js'
export type { ExponentialBackoffOptions, RetryDelay } from './backoff.js'
export type { ChangeInfo, ChangeReason, StateListener, SubscribeOptions } from './replica/replica.js'
export { ErrorCode, IpcStateError, isIpcStateError, RETRYABLE_ERROR_CODES } from '@ipc-state/protocol'
export type {
  AbortSignalLike,
  ActionsOf,
  ChangesListResult,
  DeepReadonly,
  Logger,
  Patch,
  PatchPath,
  RecentChange,
  ServerInfoAction,
  ServerInfoConnection,
  ServerInfoResult,
  StateOf,
  StoreDefinition,
} from '@ipc-state/protocol'
export { consoleLogger, pinoLogger } from '@ipc-state/protocol'
