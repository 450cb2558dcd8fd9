// The MessagePort transport's client side, on web-standard port calls only: a worker thread, a page or an Electron renderer reaches a server in another thread or process.
import type { ClientConnection, ClientConnectionHandlers, ClientTransport } from './client-transport.js'

/**
 * The client acknowledges what it has read once this much has come in since it last did: the
 * server counts what it posted and the client has not read (its `bufferedBytes`), and stops
 * writing at 16 KiB, so a client that stops reading is held to a bound as a socket's reader is.
 */
export const ACKNOWLEDGE_BYTES = 8 * 1024

/**
 * One end of a message channel whose other end the server's `messagePortTransport().accept` took:
 * the web's `MessagePort` (a page, a renderer, a web worker) or Node's (worker_threads). Only
 * web-standard calls are used.
 */
export interface ClientMessagePort {
  /** Posts a frame's bytes (transferred), a count of bytes read, or the goodbye. */
  postMessage(message: unknown, transfer: ArrayBuffer[]): void
  /** The event's type differs between Node, the web and their typings: the transport reads only `event.data`. */
  addEventListener(type: 'message', listener: (event: any) => void): void
  /** Starts delivering messages. */
  start(): void
  /** Closes this end. */
  close(): void
}

/** Options for {@link messagePortTransport}. */
export interface MessagePortTransportOptions {
  /**
   * Gives a fresh port to the server, for each connection attempt: the first, and one after each
   * connection lost (a port, once closed, cannot be used again). Ask whoever holds the server: the
   * parent thread, the main process through a preload. A rejection is a failed attempt, retried
   * with the client's backoff.
   */
  openPort: () => ClientMessagePort | Promise<ClientMessagePort>
  /**
   * What the client's `path`, its errors and its log lines show.
   * @default 'message port'
   */
  name?: string
}

/**
 * Creates the client's side of the MessagePort transport, for `connect({ transport })`. Frames
 * travel as transferred `ArrayBuffer`s; the client's limits (frame size, depth) apply as over a
 * socket. A port that closes (the server's thread gone, the server closing) is a lost connection:
 * the client asks `openPort` for a new one and resyncs, calls answered exactly once.
 *
 * @example
 * ```ts
 * // in a worker thread; the parent answers with ports.accept(port1) and posts port2 back
 * const client = await connect<typeof store>({
 *   transport: messagePortTransport({ openPort: () => requestPort(parentPort) }),
 * })
 * ```
 * @throws TypeError when `openPort` is not a function
 */
export function messagePortTransport(options: MessagePortTransportOptions): ClientTransport & { readonly name: string } {
  const { openPort } = options
  if (typeof openPort !== 'function') throw new TypeError('openPort must be a function that gives a MessagePort')
  const name = options.name ?? 'message port'
  if (typeof name !== 'string') throw new TypeError('name must be a string')
  return { name, open: (handlers) => openPortConnection(openPort, handlers) }
}

/** One connection over a port `openPort` gives: open once it has the port, closed when either side says so. */
function openPortConnection(
  openPort: MessagePortTransportOptions['openPort'],
  handlers: ClientConnectionHandlers,
): ClientConnection {
  let port: ClientMessagePort | undefined
  let ended = false
  /** Bytes read since the last acknowledgement. */
  let unacknowledged = 0

  const end = (error?: Error, sayGoodbye = false) => {
    if (ended) return
    ended = true
    if (port !== undefined) {
      try {
        // A page's port reports no close to the other side: the server hears it from this.
        if (sayGoodbye) port.postMessage(null, [])
        port.close()
      } catch {
        // Already closed or gone with its thread.
      }
    }
    handlers.close(error)
  }

  const receive = (message: unknown) => {
    if (ended) return
    if (message instanceof ArrayBuffer) {
      handlers.data(new Uint8Array(message))
      unacknowledged += message.byteLength
      if (unacknowledged >= ACKNOWLEDGE_BYTES && !ended) {
        port!.postMessage(unacknowledged, [])
        unacknowledged = 0
      }
    } else if (message === null) {
      // The server ends: everything it wrote came before this.
      end()
    } else {
      end(Object.assign(new Error(`The server's port sent ${typeof message}, not a frame's bytes`), { code: 'EPROTO' }), true)
    }
  }

  // Never from inside `open`: the port is asked for in a task of its own.
  Promise.resolve()
    .then(openPort)
    .then(
      (given) => {
        if (ended) {
          given.close()
          return
        }
        if (typeof given !== 'object' || given === null || typeof given.postMessage !== 'function') {
          end(new TypeError('openPort must give a MessagePort'))
          return
        }
        port = given
        port.addEventListener('message', (event: { data: unknown }) => receive(event.data))
        // Node's ports, and the web's where supported, report the other end closing (its thread gone).
        port.addEventListener('close' as 'message', () =>
          end(Object.assign(new Error('The server closed the message port'), { code: 'ECONNRESET' })),
        )
        port.start()
        handlers.open()
      },
      (error: unknown) => end(error instanceof Error ? error : new Error(String(error))),
    )

  return {
    write(bytes) {
      if (ended || port === undefined) return
      // The client may keep its bytes (a call is resent after a reconnect), and they may sit in a
      // larger buffer: the port gets a copy of its own, transferred rather than copied again.
      // (`new Uint8Array(bytes)` copies; a Node Buffer's `slice` would not.)
      const copy = new Uint8Array(bytes).buffer
      try {
        port.postMessage(copy, [copy])
      } catch (error) {
        // Reported from a task of its own, never from inside `write`.
        queueMicrotask(() => end(error as Error))
      }
    },
    close: () => end(undefined, true),
  }
}
