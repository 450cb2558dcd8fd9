// The WebSocket transport: the platform's own WebSocket (a page's, or one given), each frame one binary message, the token a subprotocol.
import { WEB_SOCKET_PROTOCOL, WEB_SOCKET_TOKEN_PATTERN, webSocketProtocols } from '@ipc-state/protocol/wire'
import type { ClientConnection, ClientTransport } from './client-transport.js'

/** The part of the WHATWG `WebSocket` this transport uses: a page's, Node's own (22+), or `ws`'s. */
export interface WebSocketLike {
  binaryType: string
  readonly readyState: number
  readonly protocol: string
  /** Sends one frame as one binary message. */
  send(data: Uint8Array): void
  /** Closes the connection. */
  close(code?: number, reason?: string): void
  /** Called once the connection is open. */
  onopen: ((event: unknown) => void) | null
  /** Called with each message the server sends. */
  onmessage: ((event: { data: unknown }) => void) | null
  /** Called once the connection is closed, from either side. */
  onclose: ((event: { code: number; reason: string }) => void) | null
  /** Called when the connection failed; `onclose` follows. */
  onerror: ((event: unknown) => void) | null
}

/** A `WebSocket` constructor, as {@link WebSocketTransportOptions.WebSocket} takes it. */
export type WebSocketConstructor = new (url: string, protocols: string[]) => WebSocketLike

/** Options for {@link webSocketTransport}. */
export interface WebSocketTransportOptions {
  /** The server's WebSocket address, as its listener prints it: `ws://127.0.0.1:<port>/`. */
  url: string
  /**
   * The server's secret (its listener's `token`). It travels as a subprotocol, so no URL, server
   * log or Referer carries it.
   */
  token: string
  /**
   * The WebSocket class to use.
   * @default globalThis.WebSocket (a page's, or Node.js's own from version 22)
   */
  WebSocket?: WebSocketConstructor
}

const OPEN = 1

/**
 * A transport to a server's WebSocket listener (`listenWebSocket` in `@ipc-state/server/websocket`),
 * for `connect({ transport })`. A page's connection that the server refuses (a wrong token, an
 * origin it does not allow) fails as one to a server that is down: a page sees no reason, so the
 * client retries with backoff and gives up after `connectAttempts`.
 *
 * @example
 * ```ts
 * import { connect, webSocketTransport } from '@ipc-state/client/browser'
 * const client = await connect<typeof store>({ transport: webSocketTransport({ url, token }) })
 * ```
 * @throws TypeError when `url`, `token` or `WebSocket` is missing or malformed
 */
export function webSocketTransport(options: WebSocketTransportOptions): ClientTransport & { readonly name: string } {
  const { url, token } = options
  if (typeof url !== 'string' || !/^wss?:\/\//.test(url)) throw new TypeError('url must be a ws:// or wss:// address')
  if (typeof token !== 'string' || !WEB_SOCKET_TOKEN_PATTERN.test(token)) {
    throw new TypeError('token must be 16 to 256 characters of A-Z, a-z, 0-9, - and _')
  }
  const WebSocketClass = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket
  if (typeof WebSocketClass !== 'function') {
    throw new TypeError('WebSocket must be given where the platform has none (Node.js before 22: the ws package)')
  }
  const protocols = webSocketProtocols(token)
  return {
    name: url,
    open(handlers): ClientConnection {
      let ended = false
      const end = (error?: Error) => {
        if (ended) return
        ended = true
        socket.onopen = socket.onmessage = socket.onerror = socket.onclose = null
        socket.close()
        handlers.close(error)
      }
      const socket = new WebSocketClass(url, protocols)
      socket.binaryType = 'arraybuffer'
      socket.onopen = () => {
        if (ended) return
        if (socket.protocol !== WEB_SOCKET_PROTOCOL) {
          end(new Error(`${url} answered with subprotocol '${socket.protocol}', not '${WEB_SOCKET_PROTOCOL}'`))
          return
        }
        handlers.open()
      }
      socket.onmessage = (event) => {
        if (ended) return
        const { data } = event
        if (data instanceof ArrayBuffer) handlers.data(new Uint8Array(data))
        else if (ArrayBuffer.isView(data)) handlers.data(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
        // Frames are bytes: a server that sends text is not ours.
        else end(new Error(`${url} sent a message that is not binary`))
      }
      // A page learns nothing more of a failure than that it happened, and then `close` follows.
      let failed = false
      socket.onerror = () => {
        failed = true
      }
      socket.onclose = (event) => {
        end(
          failed || event.code !== 1000
            ? new Error(`The WebSocket to ${url} closed (code ${event.code}${event.reason === '' ? '' : `: ${event.reason}`})`)
            : undefined,
        )
      }
      return {
        write: (bytes) => {
          if (!ended && socket.readyState === OPEN) socket.send(bytes)
        },
        close: () => end(),
      }
    },
  }
}
