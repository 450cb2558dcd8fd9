import { Defaults } from '@ipc-state/protocol'
import {
  FrameDecoder,
  ServerMessageType,
  decodeServerMessage,
  encodeClientMessage,
  type ClientMessage,
  type ResponseMessage,
  type ServerMessage,
} from '@ipc-state/protocol/wire'
import {
  CLOSE_GRACE_MS,
  type Transport,
  type TransportConnection,
  type TransportHandlers,
  type TransportServer,
} from '../src/transport/transport.js'

/** What the server may write before `write` returns false, as a socket's default buffer. */
const HIGH_WATER_MARK = 16 * 1024

/**
 * Runs `task` once the current one is done, never inside the call that caused it, as a socket
 * delivers. A microtask, so fake timers do not stop delivery; tasks run in the order queued.
 */
const later = (task: () => void): void => queueMicrotask(task)

/** A server-side transport in memory, whose test side opens connections as raw peers. */
export interface MemoryTransport extends Transport {
  /** Whether a server listens. */
  readonly listening: boolean
  /**
   * Connects a raw peer, as a client process would, and resolves once the server has taken the
   * connection (it may have refused it already, with a last message on the way).
   * @throws Error when no server listens
   */
  connect(): Promise<MemoryPeer>
  /** Reports an error below the connections, as a socket's `error` event would. */
  emitError(error: Error & { code?: string }): void
}

/** Creates an in-memory transport for one server. */
export function createMemoryTransport(): MemoryTransport {
  let handlers: TransportHandlers | undefined
  let listening = false
  const open = new Set<MemoryPeer>()
  let allClosed: (() => void) | undefined

  const transport: MemoryTransport = {
    get listening() {
      return listening
    },
    async listen(given) {
      if (listening) throw new Error('The memory transport already has a server')
      handlers = given
      listening = true
      const server: TransportServer = {
        close() {
          listening = false
          return new Promise((resolve) => {
            // As the node-ipc transport does: what was written reaches the peer; a peer that does
            // not read is cut after a grace.
            for (const peer of open) {
              peer.server.end()
              setTimeout(() => peer.server.destroy(), CLOSE_GRACE_MS).unref()
            }
            if (open.size === 0) resolve()
            else allClosed = resolve
          })
        },
      }
      return server
    },
    emitError(error) {
      handlers?.error(error)
    },
    connect() {
      if (!listening || handlers === undefined) return Promise.reject(new Error('connect ECONNREFUSED: no server listens'))
      const accepting = handlers
      const peer = new MemoryPeer((closed) => {
        open.delete(closed)
        if (open.size === 0) allClosed?.()
      })
      open.add(peer)
      return new Promise((resolve) => {
        later(() => {
          peer.attach(accepting)
          resolve(peer)
        })
      })
    },
  }
  return transport
}

/**
 * The test side of one in-memory connection: a raw peer that writes text and reads what the server
 * wrote as decoded frames. It can stop reading, so the server's `bufferedBytes` for it grows.
 */
export class MemoryPeer {
  /** Every frame the peer has read, as text, in order. */
  readonly frames: string[] = []
  /** Every frame the peer has read, decoded, in order. */
  readonly messages: ServerMessage[] = []
  /** Frames that did not decode as a server message: a server bug. */
  readonly malformed: string[] = []
  /** The server's side of this connection. */
  readonly server: TransportConnection
  /** Resolves once the connection has closed, from either side. */
  readonly closed: Promise<void>

  readonly #decoder = new FrameDecoder({ maxFrameBytes: Defaults.CLIENT_MAX_FRAME_BYTES, byteLength: Buffer.byteLength })
  readonly #onClosed: (peer: MemoryPeer) => void
  #events: ReturnType<TransportHandlers['connection']> | undefined
  /** What the server wrote that the peer has not read yet, each with its `written` callback. */
  #unread: { bytes: Uint8Array; written: (() => void) | undefined }[] = []
  /** Reads the bytes as a socket with `setEncoding('utf8')` does: a character split across writes survives. */
  readonly #text = new TextDecoder('utf-8')
  #bufferedBytes = 0
  /** Whether a write returned false: the server is told `drain` once the peer has read. */
  #needsDrain = false
  #reading = true
  /** Whether the server still reads what the peer writes. */
  #serverReading = true
  /** Whether the server ended the connection: it closes once the peer has read everything. */
  #ending = false
  #isClosed = false
  #resolveClosed!: () => void
  #cursor = 0
  /** Indexes of the responses `response` has returned. */
  readonly #returned = new Set<number>()
  #waiters = new Set<{ check: () => boolean; fail: (error: Error) => void }>()

  constructor(onClosed: (peer: MemoryPeer) => void) {
    this.#onClosed = onClosed
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve))
    const peer = this
    this.server = {
      write(chunk, written) {
        if (peer.#isClosed || peer.#ending) {
          if (written !== undefined) later(written)
          return false
        }
        const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk
        peer.#unread.push({ bytes, written })
        peer.#bufferedBytes += bytes.length
        later(() => peer.#flush())
        // As a socket: past its buffer, the writer should wait for `drain`.
        if (peer.#bufferedBytes < HIGH_WATER_MARK) return true
        peer.#needsDrain = true
        return false
      },
      get bufferedBytes() {
        return peer.#bufferedBytes
      },
      end() {
        if (peer.#isClosed || peer.#ending) return
        peer.#serverReading = false
        peer.#ending = true
        later(() => peer.#flush())
      },
      destroy() {
        if (peer.#isClosed) return
        // Nothing more is written or read; the close itself is reported later, as a socket does.
        peer.#serverReading = false
        peer.#ending = true
        peer.#drop()
        later(() => peer.#close())
      },
    }
  }

  /** Whether the connection has closed. */
  get isClosed(): boolean {
    return this.#isClosed
  }

  /** @internal Hands the connection to the server. */
  attach(handlers: TransportHandlers): void {
    this.#events = handlers.connection(this.server)
  }

  /** Sends raw text; it reaches the server after the current task, in order. Dropped once closed. */
  write(text: string): void {
    if (this.#isClosed) return
    later(() => {
      if (!this.#isClosed && this.#serverReading) this.#events?.data(text)
    })
  }

  /** Sends one client message, encoded as protocol encodes it. */
  send(message: ClientMessage): void {
    this.write(encodeClientMessage(message))
  }

  /** Stops reading: what the server writes queues up in its `bufferedBytes`. */
  pause(): void {
    this.#reading = false
  }

  /** Reads again, everything queued first. */
  resume(): void {
    this.#reading = true
    later(() => this.#flush())
  }

  /** Closes the connection from the peer's side, after what it wrote has reached the server. */
  close(): void {
    later(() => this.#close())
  }

  /** The next message not returned by `next` yet, waiting for it if needed. */
  async next(): Promise<ServerMessage> {
    await this.#until(() => this.#cursor < this.messages.length, 'another message')
    return this.messages[this.#cursor++]!
  }

  /** The first message `predicate` accepts, waiting for it if needed. */
  async waitFor(predicate: (message: ServerMessage) => boolean, what = 'a matching message'): Promise<ServerMessage> {
    await this.#until(() => this.messages.some(predicate), what)
    return this.messages.find(predicate)!
  }

  /**
   * The next response to request `id` that this method has not returned yet, waiting for it if
   * needed: a request sent twice gets its two answers from two calls.
   */
  async response(id: number): Promise<ResponseMessage> {
    const isAnswer = (m: ServerMessage, i: number) =>
      m.type === ServerMessageType.Response && m.data.id === id && !this.#returned.has(i)
    await this.#until(() => this.messages.some(isAnswer), `the response to ${id}`)
    const index = this.messages.findIndex(isAnswer)
    this.#returned.add(index)
    return this.messages[index]!.data as ResponseMessage
  }

  /** The responses received so far to request `id`. */
  responses(id: number): ResponseMessage[] {
    return this.messages.flatMap((m) => (m.type === ServerMessageType.Response && m.data.id === id ? [m.data] : []))
  }

  #until(check: () => boolean, what: string): Promise<void> {
    if (check()) return Promise.resolve()
    if (this.#isClosed) return Promise.reject(new Error(`The connection closed before ${what} arrived`))
    return new Promise((resolve, reject) => {
      const waiter = {
        check: () => {
          if (!check()) return false
          resolve()
          return true
        },
        fail: () => reject(new Error(`The connection closed before ${what} arrived`)),
      }
      this.#waiters.add(waiter)
    })
  }

  #flush(): void {
    if (!this.#reading || this.#isClosed) return
    while (this.#unread.length > 0) {
      const { bytes, written } = this.#unread.shift()!
      this.#bufferedBytes -= bytes.length
      written?.()
      for (const frame of this.#decoder.push(this.#text.decode(bytes, { stream: true }))) {
        this.frames.push(frame)
        const decoded = decodeServerMessage(frame)
        if (decoded.ok) this.messages.push(decoded.message)
        else this.malformed.push(frame)
      }
    }
    for (const waiter of this.#waiters) if (waiter.check()) this.#waiters.delete(waiter)
    // A peer that read the server's end closes its side too, as a socket without half-open does.
    if (this.#ending) {
      this.#close()
      return
    }
    if (this.#needsDrain) {
      this.#needsDrain = false
      this.#events?.drain?.()
    }
  }

  /** Drops everything unread, as a destroyed socket does, calling back each write. */
  #drop(): void {
    const dropped = this.#unread
    this.#unread = []
    this.#bufferedBytes = 0
    for (const { written } of dropped) if (written !== undefined) later(written)
  }

  #close(): void {
    if (this.#isClosed) return
    this.#isClosed = true
    this.#drop()
    for (const waiter of this.#waiters) if (!waiter.check()) waiter.fail(new Error('closed'))
    this.#waiters.clear()
    this.#events?.close()
    this.#onClosed(this)
    this.#resolveClosed()
  }
}
