// Raw peers over the public in-memory pair (src/testing): the unit tests play the client, frame by frame.
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
import type { Transport, TransportConnection, TransportHandlers } from '../src/transport/transport.js'
import { type MemoryClientConnection, memoryTransport } from '../src/testing/memory-transport.js'

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
  const memory = memoryTransport({ name: 'unit memory' })
  let handlers: TransportHandlers | undefined
  /** The server's end of each connection it took, in order, until its peer picks it up. */
  const taken: TransportConnection[] = []
  return {
    name: memory.server.name,
    get listening() {
      return handlers !== undefined
    },
    async listen(given) {
      const watched: TransportHandlers = {
        connection(connection) {
          taken.push(connection)
          return given.connection(connection)
        },
        error: (error) => given.error(error),
      }
      const server = await memory.server.listen(watched)
      handlers = watched
      return {
        close() {
          handlers = undefined
          return server.close()
        },
      }
    },
    emitError(error) {
      handlers?.error(error)
    },
    connect() {
      return new Promise((resolve, reject) => {
        const peer = new MemoryPeer()
        let opened = false
        const connection = memory.client.open({
          open() {
            opened = true
            peer.attach(connection, taken.shift()!)
            resolve(peer)
          },
          data: (chunk) => peer.read(chunk),
          close(error) {
            if (!opened) reject(error ?? new Error('closed before it opened'))
            else peer.ended()
          },
        })
      })
    },
  }
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
  /** Resolves once the connection has closed, from either side. */
  readonly closed: Promise<void>

  readonly #decoder = new FrameDecoder({ maxFrameBytes: Defaults.CLIENT_MAX_FRAME_BYTES, byteLength: Buffer.byteLength })
  /** Reads the bytes as a socket with `setEncoding('utf8')` does: a character split across writes survives. */
  readonly #text = new TextDecoder('utf-8')
  #connection: MemoryClientConnection | undefined
  #server: TransportConnection | undefined
  #isClosed = false
  #resolveClosed!: () => void
  #cursor = 0
  /** Indexes of the responses `response` has returned. */
  readonly #returned = new Set<number>()
  #waiters = new Set<{ check: () => boolean; fail: (error: Error) => void }>()

  constructor() {
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve))
  }

  /** The server's side of this connection. */
  get server(): TransportConnection {
    return this.#server!
  }

  /** Whether the connection has closed. */
  get isClosed(): boolean {
    return this.#isClosed
  }

  /** @internal The connection opened: the client's end, and the server's. */
  attach(connection: MemoryClientConnection, server: TransportConnection): void {
    this.#connection = connection
    this.#server = server
  }

  /** @internal Bytes the server wrote. */
  read(bytes: Uint8Array): void {
    for (const frame of this.#decoder.push(this.#text.decode(bytes, { stream: true }))) {
      this.frames.push(frame)
      const decoded = decodeServerMessage(frame)
      if (decoded.ok) this.messages.push(decoded.message)
      else this.malformed.push(frame)
    }
    for (const waiter of this.#waiters) if (waiter.check()) this.#waiters.delete(waiter)
  }

  /** @internal The connection closed. */
  ended(): void {
    if (this.#isClosed) return
    this.#isClosed = true
    for (const waiter of this.#waiters) if (!waiter.check()) waiter.fail(new Error('closed'))
    this.#waiters.clear()
    this.#resolveClosed()
  }

  /** Sends raw text; it reaches the server after the current task, in order. Dropped once closed. */
  write(text: string): void {
    this.#connection?.write(Buffer.from(text, 'utf8'))
  }

  /** Sends one client message, encoded as protocol encodes it. */
  send(message: ClientMessage): void {
    this.write(encodeClientMessage(message))
  }

  /** Stops reading: what the server writes queues up in its `bufferedBytes`. */
  pause(): void {
    this.#connection?.pause()
  }

  /** Reads again, everything queued first. */
  resume(): void {
    this.#connection?.resume()
  }

  /** Closes the connection from the peer's side, after what it wrote has reached the server. */
  close(): void {
    queueMicrotask(() => this.#connection?.close())
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
}
