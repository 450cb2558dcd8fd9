// `@ipc-state/server/websocket`: a WebSocket listener for pages and other clients without a Unix socket; only this entry loads `ws`.
export { listenWebSocket } from './web-socket-transport.js'
export type { WebSocketListener, WebSocketListenerOptions } from './web-socket-transport.js'
