// The MessagePort transport's server side: serves clients in other threads (worker_threads), pages or Electron renderers, one port each.
import { ErrorCode, IpcStateError } from '@ipc-state/protocol'
import {
  CLOSE_GRACE_MS,
  type ConnectionEvents,
  type Transport,
  type TransportConnection,
  type TransportHandlers,
  type TransportServer,
} from './transport.js'

/**
 * Bytes posted to a port and not yet acknowledged by its reader before `write` says stop, as a
 * socket's buffer: the client acknowledges what it has read, so a thread that stops reading (a
 * busy loop, a debugger) is held to this mark and then to the server's `maxBufferedBytes`.
 */
export const PORT_HIGH_WATER_BYTES = 16 * 1024

/**
 * One end of a message channel the server can serve: Node's `MessagePort` (worker_threads), the
 * web's `MessagePort`, or Electron's `MessagePortMain`. A port with `addEventListener` is read as
 * the web's (and Node's); one without it as Electron's `MessagePortMain` (`on('message', event)`),
 * which cannot transfer buffers, so frames are posted to it as copies.
 */
export interface ServerMessagePort {
  /** Posts a message; the server transfers the buffer it posts when the port can. */
  postMessage(message: unknown, transfer?: never[]): void
  /** Starts delivering messages (Node and the web start on the first `addEventListener` only with `onmessage`). */
  start(): void
  /** Closes this end; the other end sees `close` where its runtime reports it. */
  close(): void
  /** The event's type differs between Node, the web and their typings: the transport reads only `event.data`. */
  addEventListener?(type: 'message', listener: (event: any) => void): void
  /** Electron's `MessagePortMain` way of listening, read when the port has no `addEventListener`. */
  on?(type: 'message' | 'close', listener: (event?: any) => void): unknown
}

/** Options for {@link messagePortTransport}. */
export interface MessagePortTransportOptions {
  /**
   * What the server's `path`, `serverInfo().path` and its log lines show for this transport.
   * @default 'message port'
   */
  name?: string
}

/** The server's side of the MessagePort transport: a `Transport` that serves every port handed to it. */
export interface MessagePortTransport extends Transport {
  readonly name: string
  /**
   * Serves one client over `port`, the other end of which goes to the client (`postMessage(…, [port])`
   * to a worker, a page or a renderer). Ports accepted while no server listens (before it starts, or
   * between a server's close and the next one's start on this transport) wait for the next.
   */
  accept(port: ServerMessagePort): void
}

/**
 * What travels on a port: a frame's bytes as an `ArrayBuffer` (transferred, so never copied twice),
 * from either side; from the client, a count of bytes it has read (a number); and `null`, which
 * says "nothing more from me": the server ends with it, and the client says it before closing,
 * since a web page's port reports no close of its own. Anything else is a broken peer.
 */
type PortMessage = ArrayBuffer | number | null

/**
 * Creates the server's side of the MessagePort transport, for `createServer({ transport })`, alone
 * or beside the Unix socket (`transport: [unixSocketTransport(…), ports]`). Each port given to
 * {@link MessagePortTransport.accept} is one connection, with every limit a socket has: the frame
 * size, input deadlines and the memory budget apply to what it sends, and what the server writes
 * to it counts until the client acknowledges it, so `write` says stop past 16 KiB unread.
 *
 * @example
 * ```ts
 * const ports = messagePortTransport()
 * await using server = await createServer({ store, transport: ports })
 * const { port1, port2 } = new MessageChannel()
 * ports.accept(port1)
 * new Worker(url, { workerData: { port: port2 }, transferList: [port2] })
 * ```
 */
export function messagePortTransport(options: MessagePortTransportOptions = {}): MessagePortTransport {
  const name = options.name ?? 'message port'
  if (typeof name !== 'string') throw new TypeError('name must be a string')
  let handlers: TransportHandlers | undefined
  /** Ports accepted while no server listens. */
  const waiting: ServerMessagePort[] = []
  const links = new Set<PortLink>()
  let allClosed: (() => void) | undefined
  const forget = (link: PortLink) => {
    links.delete(link)
    if (links.size === 0) allClosed?.()
  }

  const serve = (port: ServerMessagePort, given: TransportHandlers) => {
    const link = new PortLink(port, given, forget)
    links.add(link)
    link.start()
  }

  return {
    name,
    accept(port) {
      if (typeof port !== 'object' || port === null || typeof port.postMessage !== 'function') {
        throw new TypeError('port must be a MessagePort')
      }
      if (handlers === undefined) waiting.push(port)
      else serve(port, handlers)
    },
    async listen(given) {
      if (handlers !== undefined) throw new IpcStateError(ErrorCode.ADDRESS_IN_USE, `A server already listens on ${name}`)
      handlers = given
      allClosed = undefined
      for (const port of waiting.splice(0)) serve(port, given)
      const server: TransportServer = {
        close() {
          handlers = undefined
          return new Promise((resolve) => {
            for (const link of links) {
              link.connection.end()
              setTimeout(() => link.connection.destroy(), CLOSE_GRACE_MS).unref?.()
            }
            if (links.size === 0) resolve()
            else allClosed = resolve
          })
        },
      }
      return server
    },
  }
}

/** One served port: the connection the server writes to, and the events it hears. */
class PortLink {
  readonly connection: TransportConnection
  readonly #port: ServerMessagePort
  readonly #handlers: TransportHandlers
  readonly #forget: (link: PortLink) => void
  /** Electron's MessagePortMain transfers only ports: buffers are posted as copies. */
  readonly #transfers: boolean
  #events: ConnectionEvents | undefined
  /** Bytes posted and not yet acknowledged by the client. */
  #unacknowledged = 0
  #owesDrain = false
  #reading = true
  #ending = false
  #closed = false

  constructor(port: ServerMessagePort, handlers: TransportHandlers, forget: (link: PortLink) => void) {
    this.#port = port
    this.#handlers = handlers
    this.#forget = forget
    this.#transfers = typeof port.addEventListener === 'function'
    const link = this
    this.connection = {
      write(bytes, written) {
        if (link.#closed || link.#ending) {
          if (written !== undefined) queueMicrotask(written)
          return false
        }
        // The server's bytes may sit in a pooled buffer or go to many connections: the port gets a
        // copy it owns, transferred rather than copied again (`new Uint8Array(bytes)` copies; a
        // Node Buffer's `slice` would not).
        const copy = new Uint8Array(bytes).buffer
        if (!link.#post(copy, true)) {
          if (written !== undefined) queueMicrotask(written)
          return false
        }
        if (written !== undefined) queueMicrotask(written)
        // Counted from the bytes: the transferred copy is detached now.
        link.#unacknowledged += bytes.length
        if (link.#unacknowledged < PORT_HIGH_WATER_BYTES) return true
        link.#owesDrain = true
        return false
      },
      get bufferedBytes() {
        return link.#unacknowledged
      },
      end() {
        if (link.#closed || link.#ending) return
        // Nothing more is read; the client reads what was posted, then the `null`, and closes.
        link.#reading = false
        link.#ending = true
        link.#post(null, false)
      },
      destroy() {
        link.#close()
      },
    }
  }

  /** Reports the connection to the server, then reads what the client posts. */
  start(): void {
    this.#events = this.#handlers.connection(this.connection)
    const port = this.#port
    try {
      if (typeof port.addEventListener === 'function') {
        port.addEventListener('message', (event: { data: unknown }) => this.#receive(event.data))
        // Node reports a port closed from the other side (or its thread gone); the web may not.
        if (typeof port.on === 'function') port.on('close', () => this.#close())
        else port.addEventListener('close' as 'message', () => this.#close())
      } else if (typeof port.on === 'function') {
        port.on('message', (event?: { data: unknown }) => this.#receive(event?.data))
        port.on('close', () => this.#close())
      } else {
        throw new TypeError('a port must have addEventListener or on')
      }
      port.start()
    } catch (error) {
      this.#handlers.error(error as Error)
      this.#close()
    }
  }

  #receive(message: unknown): void {
    if (this.#closed) return
    if (message instanceof ArrayBuffer) {
      if (this.#reading) this.#events?.data(new Uint8Array(message))
    } else if (typeof message === 'number') {
      this.#acknowledged(message)
    } else if (message === null) {
      this.#close()
    } else {
      this.#refuse(`a message port sent ${kindOf(message)}, not a frame's bytes`)
    }
  }

  /** The client has read `bytes` more: once under the mark, the server may write again. */
  #acknowledged(bytes: number): void {
    if (!Number.isSafeInteger(bytes) || bytes < 0 || bytes > this.#unacknowledged) {
      this.#refuse(`a message port acknowledged ${bytes} bytes with ${this.#unacknowledged} unread`)
      return
    }
    this.#unacknowledged -= bytes
    if (this.#owesDrain && this.#unacknowledged < PORT_HIGH_WATER_BYTES) {
      this.#owesDrain = false
      this.#events?.drain()
    }
  }

  /** A peer that breaks the port's protocol is cut off, as a socket that sent garbage would be. */
  #refuse(reason: string): void {
    this.#handlers.error(Object.assign(new Error(reason), { code: 'EPROTO' }))
    this.#close()
  }

  /** @returns false when the port cannot take it (closed, or moved elsewhere) */
  #post(message: PortMessage, transfer: boolean): boolean {
    try {
      if (transfer && this.#transfers && message instanceof ArrayBuffer) this.#port.postMessage(message, [message] as never[])
      else this.#port.postMessage(message)
      return true
    } catch (error) {
      this.#handlers.error(error as Error)
      // Reported from a task of its own, never from inside write or end.
      queueMicrotask(() => this.#close())
      return false
    }
  }

  #close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#reading = false
    try {
      this.#port.close()
    } catch {
      // Already closed.
    }
    // The server hears `close` from a task of the transport's, never inside `destroy`.
    queueMicrotask(() => {
      this.#events?.close()
      this.#forget(this)
    })
  }
}

/** Names what a port sent, without echoing it. */
function kindOf(message: unknown): string {
  if (typeof message === 'object') return ArrayBuffer.isView(message) ? 'a typed array' : 'an object'
  return `a ${typeof message}`
}
