// How a WebSocket client proves it holds the server's token: as a subprotocol, which no URL, log line or Referer carries.

/** The subprotocol a WebSocket server of ipc-state answers with, and every client offers. */
export const WEB_SOCKET_PROTOCOL = 'ipc-state'

/** What precedes the token in the second subprotocol a client offers: `ipc-state.token.<token>`. */
export const WEB_SOCKET_TOKEN_PREFIX = 'ipc-state.token.'

/**
 * The shape of a WebSocket token: 16 to 256 URL-safe base64 characters, all of which a subprotocol
 * may carry (a browser refuses to open a connection whose subprotocol has any other).
 */
export const WEB_SOCKET_TOKEN_PATTERN: RegExp = /^[A-Za-z0-9_-]{16,256}$/

/** The subprotocols a client offers to prove it holds `token`: the protocol's name, then the token. */
export function webSocketProtocols(token: string): [string, string] {
  return [WEB_SOCKET_PROTOCOL, WEB_SOCKET_TOKEN_PREFIX + token]
}
