// The WebSocket transport: an HTTP listener on 127.0.0.1 that upgrades only requests showing our Host, an allowed Origin and the token.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { Defaults, ErrorCode, IpcStateError, numberOption } from '@ipc-state/protocol'
import { BINARY_HEADER_BYTES, WEB_SOCKET_PROTOCOL, WEB_SOCKET_TOKEN_PATTERN } from '@ipc-state/protocol/wire'
import { WebSocket, WebSocketServer } from 'ws'
import {
  CLOSE_GRACE_MS,
  type ConnectionEvents,
  type Transport,
  type TransportConnection,
  type TransportHandlers,
  type TransportServer,
} from '../transport.js'
import { bind, refuse } from './http-listener.js'
import { createToken } from './token.js'
import { listenerHosts, type UpgradeRules, upgradeRefusal } from './upgrade-checks.js'

/** Options for {@link listenWebSocket}. */
export interface WebSocketListenerOptions {
  /**
   * The address to listen on. Anything but a loopback address lets other machines reach the
   * token check: do so only behind a network you trust.
   * @default '127.0.0.1'
   */
  host?: string
  /**
   * The port; 0 picks a free one.
   * @default 0
   */
  port?: number
  /**
   * The path WebSocket clients connect to; any other path is refused with 404.
   * @default '/'
   */
  path?: string
  /**
   * The secret clients must show: 16 to 256 characters of URL-safe base64 (`A-Z a-z 0-9 - _`).
   * @default 32 random bytes, fresh for each listener (43 characters)
   */
  token?: string
  /**
   * Origins (`scheme://host:port`) of pages allowed to connect, besides this listener's own
   * (`http://127.0.0.1:<port>`, and `http://localhost:<port>` on a loopback address).
   * @default []
   */
  allowedOrigins?: readonly string[]
  /**
   * The largest frame accepted, in bytes: give the server's own `maxFrameBytes` when it has one. A
   * WebSocket message larger than one frame is refused before it is read, and the connection closed.
   * @default 16 MiB (the server's default)
   */
  maxFrameBytes?: number
  /**
   * WebSocket connections open at once; the server's own `maxConnections` answers below it.
   * @default 1024 + 64
   */
  maxConnections?: number
  /**
   * Answers plain HTTP requests on the same port (a page that connects back, say). Requests that
   * are not upgrades get 404 without it. It is called for every request whatever its `Host`:
   * check it, as the upgrade checks do, before serving anything secret.
   */
  request?: (request: IncomingMessage, response: ServerResponse) => void
  /**
   * How long a new HTTP connection may take to send its request headers, in milliseconds.
   * @default 10_000
   */
  headersTimeout?: number
}

/**
 * A WebSocket listener: already bound to its port, and a {@link Transport} to give to
 * `createServer({ store, transport })`. Until a server listens on it, upgrades are refused with 503.
 */
export interface WebSocketListener extends Transport, AsyncDisposable {
  /** Where clients connect: `ws://127.0.0.1:<port>/`. */
  readonly name: string
  /** Same as `name`. */
  readonly url: string
  /** The secret clients must show (see `webSocketTransport` in `@ipc-state/client/browser`). */
  readonly token: string
  readonly host: string
  readonly port: number
  /** This listener's own origin, `http://127.0.0.1:<port>`: a page it serves may connect. */
  readonly origin: string
  /**
   * Stops listening: ends every connection (a server using the listener does this as it closes).
   * A second call is a no-op.
   */
  close(): Promise<void>
  /** Same as `close`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>
}

/** Bytes one connection may hold on their way out before `write` says stop, as a socket's high-water mark. */
const HIGH_WATER_BYTES = 64 * 1024

/** Close codes: going away (server closing), unsupported data (a text message). */
const GOING_AWAY = 1001
const UNSUPPORTED_DATA = 1003

/**
 * Listens for WebSocket clients on 127.0.0.1 (or `host`) and resolves once bound. Every upgrade
 * request must name this listener in `Host` (no rebound DNS name), come from an allowed `Origin`
 * when it has one, and offer the token as the subprotocol `ipc-state.token.<token>`; others are
 * refused with 403, 404 or 401 before any WebSocket exists. Messages must be binary, each at most
 * one frame; a connection then gets every limit the server applies to a socket's.
 *
 * @example
 * ```ts
 * await using transport = await listenWebSocket({ port: 8080 })
 * await using server = await createServer({ store, transport })
 * console.log(`${transport.url} with token ${transport.token}`)
 * ```
 * @throws TypeError when an option is invalid
 * @throws IpcStateError `ADDRESS_IN_USE` when the port is taken, `LISTEN_FAILED` when it cannot listen
 */
export async function listenWebSocket(options: WebSocketListenerOptions = {}): Promise<WebSocketListener> {
  const host = options.host ?? '127.0.0.1'
  if (typeof host !== 'string' || host === '') throw new TypeError('host must be a non-empty string')
  const wantedPort = numberOption('port', options.port, { fallback: 0, min: 0 })
  if (wantedPort > 65_535) throw new TypeError('port must be an integer from 0 to 65535')
  const path = options.path ?? '/'
  if (typeof path !== 'string' || !path.startsWith('/')) throw new TypeError("path must be a string starting with '/'")
  const token = options.token ?? createToken()
  if (typeof token !== 'string' || !WEB_SOCKET_TOKEN_PATTERN.test(token)) {
    throw new TypeError('token must be 16 to 256 characters of A-Z, a-z, 0-9, - and _')
  }
  const allowedOrigins = options.allowedOrigins ?? []
  if (!Array.isArray(allowedOrigins) || !allowedOrigins.every((origin) => typeof origin === 'string')) {
    throw new TypeError('allowedOrigins must be an array of origins (strings)')
  }
  const maxFrameBytes = numberOption('maxFrameBytes', options.maxFrameBytes, { fallback: Defaults.MAX_FRAME_BYTES, min: 1 })
  const maxConnections = numberOption('maxConnections', options.maxConnections, {
    fallback: Defaults.MAX_CONNECTIONS + 64,
    min: 1,
  })
  const headersTimeout = numberOption('headersTimeout', options.headersTimeout, { fallback: 10_000, min: 1 })
  if (options.request !== undefined && typeof options.request !== 'function') {
    throw new TypeError('request must be a function')
  }

  const http = createServer({ headersTimeout, requestTimeout: headersTimeout }, (request, response) => {
    if (options.request !== undefined) options.request(request, response)
    else response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not found')
  })
  // A backstop against a flood of connections that never finish a request.
  http.maxConnections = maxConnections + 64
  const port = await bind(http, host, wantedPort)
  const hosts = listenerHosts(host, port)
  const rules: UpgradeRules = {
    token,
    path,
    hosts: new Set(hosts),
    origins: new Set([...hosts.map((name) => `http://${name}`), ...allowedOrigins].map((origin) => origin.toLowerCase())),
  }
  const webSockets = new WebSocketServer({
    noServer: true,
    // One message is one frame: a frame's header and body, or a text frame and its delimiter.
    maxPayload: maxFrameBytes + BINARY_HEADER_BYTES,
    perMessageDeflate: false,
    clientTracking: false,
    handleProtocols: () => WEB_SOCKET_PROTOCOL,
  })
  const open = new Set<WebSocket>()
  let handlers: TransportHandlers | undefined
  let closing: Promise<void> | undefined

  http.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy())
    const refusal =
      upgradeRefusal(
        {
          url: request.url,
          host: request.headers.host,
          origin: request.headers.origin,
          protocols: request.headers['sec-websocket-protocol'],
        },
        rules,
      ) ??
      (handlers === undefined || closing !== undefined
        ? { status: 503, reason: 'Service unavailable' }
        : open.size >= maxConnections
          ? { status: 503, reason: 'Too many connections' }
          : undefined)
    if (refusal !== undefined) {
      refuse(socket, refusal.status, refusal.reason)
      return
    }
    webSockets.handleUpgrade(request, socket, head, (webSocket) => {
      if (handlers === undefined || closing !== undefined) {
        webSocket.terminate()
        return
      }
      accept(webSocket, handlers)
    })
  })

  function accept(webSocket: WebSocket, accepted: TransportHandlers): void {
    open.add(webSocket)
    let buffered = 0
    let owesDrain = false
    let ended = false
    let events: ConnectionEvents | undefined
    const connection: TransportConnection = {
      write(bytes, written) {
        if (webSocket.readyState !== WebSocket.OPEN) {
          if (written !== undefined) queueMicrotask(written)
          return false
        }
        buffered += bytes.byteLength
        // The callback runs once the bytes are handed to the socket, or with an error when it closed first.
        webSocket.send(bytes, { binary: true }, () => {
          buffered -= bytes.byteLength
          written?.()
          if (owesDrain && buffered < HIGH_WATER_BYTES && webSocket.readyState === WebSocket.OPEN) {
            owesDrain = false
            events?.drain()
          }
        })
        if (buffered < HIGH_WATER_BYTES) return true
        owesDrain = true
        return false
      },
      get bufferedBytes() {
        return buffered
      },
      end() {
        // Nothing more reaches the server; the closing handshake delivers what was sent first.
        ended = true
        webSocket.close()
      },
      destroy() {
        ended = true
        webSocket.terminate()
      },
    }
    events = accepted.connection(connection)
    webSocket.on('message', (data: Buffer, isBinary: boolean) => {
      if (ended) return
      if (!isBinary) {
        // Frames are bytes; a text message is someone else's protocol.
        ended = true
        webSocket.close(UNSUPPORTED_DATA, 'binary messages only')
        return
      }
      events?.data(data)
    })
    webSocket.on('error', (error: Error & { code?: string }) => accepted.error(error))
    webSocket.once('close', () => {
      open.delete(webSocket)
      ended = true
      events?.close()
    })
  }

  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      for (const webSocket of open) {
        webSocket.close(GOING_AWAY, 'server closing')
        setTimeout(() => webSocket.terminate(), CLOSE_GRACE_MS).unref()
      }
      http.close(() => resolve())
      http.closeIdleConnections()
      // Connections still sending a request are not ours to wait for.
      setTimeout(() => http.closeAllConnections(), CLOSE_GRACE_MS).unref()
    })
    return closing
  }

  const url = `ws://${hosts[0]}${path}`
  return {
    name: url,
    url,
    token,
    host,
    port,
    origin: `http://${hosts[0]}`,
    async listen(given: TransportHandlers): Promise<TransportServer> {
      if (closing !== undefined) throw new IpcStateError(ErrorCode.LISTEN_FAILED, `The WebSocket listener ${url} is closed`)
      if (handlers !== undefined) throw new IpcStateError(ErrorCode.LISTEN_FAILED, `A server already listens on ${url}`)
      handlers = given
      return { close }
    },
    close,
    [Symbol.asyncDispose]: close,
  }
}
