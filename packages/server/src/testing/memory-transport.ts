// A server transport and a client transport joined in memory: a server and its clients in one process, no socket.
import { ErrorCode, IpcStateError } from '@ipc-state/protocol'
import {
  CLOSE_GRACE_MS,
  type ConnectionEvents,
  type Transport,
  type TransportConnection,
  type TransportHandlers,
  type TransportServer,
} from '../transport/transport.js'

/** What the server may have written and the client not read before `write` returns false, as a socket's buffer. */
const HIGH_WATER_BYTES = 16 * 1024

/**
 * Runs `task` once the current one is done, never inside the call that caused it, as a socket
 * delivers. A microtask, so that fake timers do not stop delivery; tasks run in the order queued.
 */
const later = (task: () => void): void => queueMicrotask(task)

/**
 * The callbacks of one client connection, as `@ipc-state/client`'s `ClientConnectionHandlers`
 * (the server package does not depend on the client's).
 */
export interface MemoryClientHandlers {
  /** The connection is open: the client may write. */
  open(): void
  /** Bytes the server wrote, in order. */
  data(chunk: Uint8Array): void
  /** The connection ended or never opened. Called exactly once. */
  close(error?: Error): void
}

/** The client's end of one in-memory connection: a `ClientConnection` that can stop reading. */
export interface MemoryClientConnection {
  /** Sends bytes to the server, which gets them after the current task, in order. Dropped once closed. */
  write(bytes: Uint8Array): void
  /** Closes from the client's side: `close` is reported to the client before this returns, and to the server after what the client wrote. */
  close(): void
  /**
   * Stops taking what the server writes, as a client that does not read: the server sees the
   * connection's `bufferedBytes` grow, then its writes return false (a slow consumer, on purpose).
   */
  pause(): void
  /** Takes what the server writes again, everything held back first. */
  resume(): void
}

/** The clients' side of a {@link memoryTransport}: what `connect({ transport })` takes. */
export interface MemoryClientTransport {
  /** The transport's name, as clients and the server report it. */
  readonly name: string
  /**
   * Opens one connection to the server listening on the other side: the client hears `open` once
   * the server has taken it, or `close(error)` with an `ECONNREFUSED` error when none listens.
   */
  open(handlers: MemoryClientHandlers): MemoryClientConnection
}

/** A server transport and a client transport joined in memory. */
export interface MemoryTransport {
  /** The server's side: `createServer({ store, transport: memory.server })`. One server at a time listens on it. */
  readonly server: Transport
  /** The clients' side: `connect({ transport: memory.client })`; every client opens its own connection. */
  readonly client: MemoryClientTransport
}

/** Options for {@link memoryTransport}. */
export interface MemoryTransportOptions {
  /**
   * What the server's `path`, the clients' `path` and log lines show.
   * @default 'memory'
   */
  name?: string
}

/**
 * Creates a server transport and a client transport that reach each other in memory, so a store,
 * its server and its clients can be tested in one process without a socket. Like a socket, it
 * delivers everything asynchronously and in order, never copies bytes, and pushes back: a client
 * that does not read (see {@link MemoryClientConnection.pause}) makes the server's writes return
 * false after 16 KiB.
 *
 * @example
 * ```ts
 * const memory = memoryTransport()
 * await using server = await createServer({ store, transport: memory.server })
 * await using client = await connect<typeof store>({ transport: memory.client })
 * ```
 */
export function memoryTransport(options: MemoryTransportOptions = {}): MemoryTransport {
  const name = options.name ?? 'memory'
  let handlers: TransportHandlers | undefined
  const links = new Set<MemoryLink>()
  let allClosed: (() => void) | undefined
  const forget = (link: MemoryLink) => {
    links.delete(link)
    if (links.size === 0) allClosed?.()
  }

  const server: Transport = {
    name,
    async listen(given) {
      if (handlers !== undefined) throw new IpcStateError(ErrorCode.ADDRESS_IN_USE, `A server already listens on ${name}`)
      handlers = given
      allClosed = undefined
      const listening: TransportServer = {
        close() {
          handlers = undefined
          return new Promise((resolve) => {
            // What was written reaches the client; a client that does not read is cut after a grace.
            for (const link of links) {
              link.server.end()
              setTimeout(() => link.server.destroy(), CLOSE_GRACE_MS).unref()
            }
            if (links.size === 0) resolve()
            else allClosed = resolve
          })
        },
      }
      return listening
    },
  }

  const client: MemoryClientTransport = {
    name,
    open(clientHandlers) {
      const link = new MemoryLink(clientHandlers, forget)
      links.add(link)
      later(() => {
        if (handlers === undefined) link.refuse(Object.assign(new Error(`connect ECONNREFUSED ${name}`), { code: 'ECONNREFUSED' }))
        else link.attach(handlers)
      })
      return link.client
    },
  }
  return { server, client }
}

/** One connection: the server's end and the client's, and what is on its way between them. */
class MemoryLink {
  readonly server: TransportConnection
  readonly client: MemoryClientConnection
  readonly #clientHandlers: MemoryClientHandlers
  readonly #forget: (link: MemoryLink) => void
  #events: ConnectionEvents | undefined
  /** What the server wrote that the client has not read yet, each with its `written` callback. */
  #unread: { bytes: Uint8Array; written: (() => void) | undefined }[] = []
  #bufferedBytes = 0
  /** A write returned false: the server is told `drain` once the client has read. */
  #needsDrain = false
  #clientReading = true
  /** Whether the server still reads what the client writes. */
  #serverReading = true
  /** The server ended the connection: it closes once the client has read everything. */
  #ending = false
  #closed = false
  /** The server heard `close`: nothing more reaches it. */
  #serverClosed = false
  /** What the client wrote that is on its way to the server: the server hears `close` after it. */
  #toServer = 0

  constructor(clientHandlers: MemoryClientHandlers, forget: (link: MemoryLink) => void) {
    this.#clientHandlers = clientHandlers
    this.#forget = forget
    const link = this
    this.server = {
      write(bytes, written) {
        if (link.#closed || link.#ending) {
          if (written !== undefined) later(written)
          return false
        }
        link.#unread.push({ bytes, written })
        link.#bufferedBytes += bytes.length
        later(() => link.#deliver())
        if (link.#bufferedBytes < HIGH_WATER_BYTES) return true
        link.#needsDrain = true
        return false
      },
      get bufferedBytes() {
        return link.#bufferedBytes
      },
      end() {
        if (link.#closed || link.#ending) return
        link.#serverReading = false
        link.#ending = true
        later(() => link.#deliver())
      },
      destroy() {
        if (link.#closed) return
        // Nothing more is written or read; the close itself is reported later, as a socket does.
        link.#serverReading = false
        link.#ending = true
        link.#drop()
        later(() => link.#close())
      },
    }
    this.client = {
      write(bytes) {
        if (link.#closed) return
        link.#toServer += 1
        later(() => {
          link.#toServer -= 1
          if (link.#serverReading && !link.#serverClosed) link.#events?.data(bytes)
          if (link.#closed && link.#toServer === 0) link.#closeServer()
        })
      },
      close: () => this.#close(),
      pause() {
        link.#clientReading = false
      },
      resume() {
        link.#clientReading = true
        later(() => link.#deliver())
      },
    }
  }

  /** The server takes the connection, then the client hears it is open. */
  attach(handlers: TransportHandlers): void {
    if (this.#closed) return
    this.#events = handlers.connection(this.server)
    if (!this.#closed) this.#clientHandlers.open()
  }

  /** Nobody listens: the attempt fails as a refused socket does. */
  refuse(error: Error): void {
    this.#close(error)
  }

  /** Hands the client what the server wrote, unless it does not read. */
  #deliver(): void {
    if (!this.#clientReading || this.#closed) return
    while (this.#unread.length > 0) {
      const { bytes, written } = this.#unread.shift()!
      this.#bufferedBytes -= bytes.length
      written?.()
      this.#clientHandlers.data(bytes)
      if (this.#closed) return
    }
    // A client that read the server's end closes its side too, as a socket without half-open does.
    if (this.#ending) {
      this.#close()
      return
    }
    if (this.#needsDrain) {
      this.#needsDrain = false
      this.#events?.drain()
    }
  }

  /** Drops everything unread, as a destroyed socket does, calling back each write. */
  #drop(): void {
    const dropped = this.#unread
    this.#unread = []
    this.#bufferedBytes = 0
    for (const { written } of dropped) if (written !== undefined) later(written)
  }

  #close(error?: Error): void {
    if (this.#closed) return
    this.#closed = true
    this.#drop()
    // After what the client wrote before closing, when some is still on its way.
    if (this.#toServer === 0) this.#closeServer()
    this.#clientHandlers.close(error)
  }

  #closeServer(): void {
    if (this.#serverClosed) return
    this.#serverClosed = true
    this.#events?.close()
    this.#forget(this)
  }
}
