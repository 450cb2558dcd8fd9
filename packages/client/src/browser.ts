/**
 * `connect` over a transport given, the WebSocket and MessagePort transports, and the client's types, for pages and renderers: no Node.js module anywhere.
 * @module @ipc-state/client/browser
 */
import type { StoreDefinition } from '@ipc-state/protocol'
import type { ClientCoreOptions } from './client-options.js'
import { connectOver } from './connect.js'
import type { IpcStateClient } from './ipc-state-client.js'
import type { ClientTransport } from './transport/client-transport.js'

export type { ClientActions, IpcStateClient } from './ipc-state-client.js'
export type { ClientCoreOptions } from './client-options.js'
export type { ClientConnection, ClientConnectionHandlers, ClientTransport } from './transport/client-transport.js'
export { webSocketTransport } from './transport/web-socket-transport.js'
export type { WebSocketConstructor, WebSocketLike, WebSocketTransportOptions } from './transport/web-socket-transport.js'
export { messagePortTransport } from './transport/message-port-transport.js'
export type { ClientMessagePort, MessagePortTransportOptions } from './transport/message-port-transport.js'
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
  DeepReadonly,
  Logger,
  ServerInfoAction,
  ServerInfoConnection,
  ServerInfoResult,
  StateOf,
  StoreDefinition,
} from '@ipc-state/protocol'
export { consoleLogger, pinoLogger } from '@ipc-state/protocol'

/** Options for the browser's {@link connect}: the client's own, and what carries its bytes. */
export interface BrowserConnectOptions extends ClientCoreOptions {
  /** What carries the client's bytes: `webSocketTransport({ url, token })`, `messagePortTransport({ openPort })`, or one of your own. */
  transport: ClientTransport
}

/**
 * Connects over `transport`, waiting with backoff while the server is not up yet, and resolves
 * once the handshake is done (and, with a replica, once the replica holds the server's state).
 * The same client as `@ipc-state/client`'s, with no Unix socket: it loads no Node.js module.
 *
 * @example
 * ```ts
 * import { connect, webSocketTransport } from '@ipc-state/client/browser'
 * const client = await connect<typeof store>({ transport: webSocketTransport({ url, token }) })
 * client.subscribe((state) => state.counter, (counter) => render(counter))
 * await client.actions.increment(1)
 * ```
 * @throws TypeError when an option is invalid, or `transport` is missing
 * @throws IpcStateError (rejects with) `SERVER_UNAVAILABLE` after `connectAttempts` failed attempts,
 *   `PROTOCOL_MISMATCH`, `ABORTED`, `BAD_REQUEST` (the server answered the handshake with a malformed result)
 */
export function connect<T extends StoreDefinition<any, any>>(options: BrowserConnectOptions): Promise<IpcStateClient<T>> {
  const { transport } = options ?? {}
  if (typeof transport !== 'object' || transport === null || typeof transport.open !== 'function') {
    throw new TypeError('transport must be an object with an open(handlers) method (say webSocketTransport({ url, token }))')
  }
  return connectOver<T>(transport, options)
}
