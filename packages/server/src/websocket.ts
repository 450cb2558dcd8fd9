/**
 * A WebSocket listener for pages and other clients without a Unix socket; only this entry loads `ws`.
 * @module @ipc-state/server/websocket
 */
export { listenWebSocket } from './transport/websocket/web-socket-transport.js'
export type { WebSocketListener, WebSocketListenerOptions } from './transport/websocket/web-socket-transport.js'
