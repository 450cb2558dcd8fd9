import {
  WireDecoder,
  decodeClientMessage,
  encodeServerMessage,
  type ClientMessage,
  type DecodeResult,
  type ServerMessage,
} from '@ipc-state/protocol/wire'
import type { ClientConnection, ClientConnectionHandlers, ClientTransport } from '../src/transport/client-transport.js'

/**
 * One connection attempt of the client, as the test's server sees it. Neither accepting nor
 * refusing leaves it hanging, as a connect that never completes.
 */
export interface MemoryAttempt {
  /** The socket path the client asked for. */
  readonly path: string
  /** Accepts the connection: the client hears `open` and may write. */
  accept(): MemoryPeer
  /** Refuses the connection, as a socket nobody listens on: the client hears `close(error)`. */
  refuse(error?: Error): void
}

/** The server's end of one accepted connection. */
export interface MemoryPeer {
  readonly path: string
  /** Every message the client wrote so far, decoded, in order. */
  readonly received: readonly ClientMessage[]
  /**
   * The client's next message not yet taken by `next()`, in order.
   * @throws Error (rejects) when the client wrote a frame that does not decode, or the connection ended
   */
  next(): Promise<ClientMessage>
  /** Runs `listener` for each message the client writes from now on. Returns a function that stops it. */
  onMessage(listener: (message: ClientMessage) => void): () => void
  /** Sends a message, encoded as a server does. */
  send(message: ServerMessage): void
  /** Sends text or bytes as they are: a partial frame, several frames, or a malformed one on purpose. */
  sendRaw(chunk: string | Uint8Array): void
  /** How many of the client's frames were binary. */
  readonly binaryFrames: number
  /** Ends the connection from the server's side; the client hears `close(error)`. */
  close(error?: Error): void
  /** Whether the connection ended, from either side. */
  readonly ended: boolean
  /** Resolves once the connection ended, from either side. */
  readonly closed: Promise<void>
}

/** An in-memory transport: the client's side is a {@link ClientTransport}, the test plays the server. */
export interface MemoryTransport {
  /** Opens a connection attempt to `path`. */
  open(path: string, handlers: ClientConnectionHandlers): ClientConnection
  /** The client's side, for a server named `path`: pass it to the client. */
  at(path: string): ClientTransport
  /** Every attempt so far, in order. */
  readonly attempts: readonly MemoryAttempt[]
  /** The next attempt not yet taken by `nextAttempt()`, in order. */
  nextAttempt(): Promise<MemoryAttempt>
}

/** Options for {@link createMemoryTransport}. */
export interface MemoryTransportOptions {
  /**
   * Sees each attempt as it is made, to accept or refuse it at once.
   * @default none: the test takes attempts with `nextAttempt()`
   */
  onAttempt?: (attempt: MemoryAttempt) => void
}

/** A queue that hands out its items in order, to takers that may come before or after them. */
class Inbox<T> {
  readonly #items: T[] = []
  readonly #takers: { resolve(item: T): void; reject(error: Error): void }[] = []
  #ended: Error | undefined

  put(item: T): void {
    const taker = this.#takers.shift()
    if (taker === undefined) this.#items.push(item)
    else taker.resolve(item)
  }

  take(): Promise<T> {
    if (this.#items.length > 0) return Promise.resolve(this.#items.shift()!)
    if (this.#ended !== undefined) return Promise.reject(this.#ended)
    return new Promise((resolve, reject) => this.#takers.push({ resolve, reject }))
  }

  end(error: Error): void {
    this.#ended = error
    for (const taker of this.#takers.splice(0)) taker.reject(error)
  }
}

/**
 * Creates an in-memory transport for unit tests. Like a socket, it delivers everything
 * asynchronously (in a microtask, which fake timers leave alone) and in order; the client's own
 * `close()` is reported before it returns, as the node-ipc adapter does.
 */
export function createMemoryTransport(options: MemoryTransportOptions = {}): MemoryTransport {
  const attempts: MemoryAttempt[] = []
  const pendingAttempts = new Inbox<MemoryAttempt>()

  const open = (path: string, handlers: ClientConnectionHandlers): ClientConnection => {
    /** Whether the client heard its `close`; nothing reaches it afterwards. */
    let ended = false
    let peer: ReturnType<typeof createPeer> | undefined
    const end = (error?: Error) => {
      if (ended) return
      ended = true
      peer?.ended()
      handlers.close(error)
    }
    const later = (task: () => void) =>
      queueMicrotask(() => {
        if (!ended) task()
      })

    const attempt: MemoryAttempt = {
      path,
      accept() {
        if (peer !== undefined || ended) throw new Error('this attempt was already answered or has ended')
        peer = createPeer(path, {
          deliver: (chunk) => later(() => handlers.data(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk)),
          close: (error) => later(() => end(error)),
          isEnded: () => ended,
        })
        later(() => handlers.open())
        return peer.view
      },
      refuse(error = new Error(`connect ECONNREFUSED ${path}`)) {
        if (peer !== undefined) throw new Error('this attempt was already accepted')
        later(() => end(error))
      },
    }
    attempts.push(attempt)
    pendingAttempts.put(attempt)
    options.onAttempt?.(attempt)
    return {
      write: (frame) => {
        if (!ended) peer?.written(frame)
      },
      close: () => end(),
    }
  }

  return {
    open,
    at: (path) => ({ name: path, open: (handlers) => open(path, handlers) }),
    attempts,
    nextAttempt: () => pendingAttempts.take(),
  }
}

interface PeerWiring {
  /** Sends text to the client, asynchronously. */
  deliver(chunk: string | Uint8Array): void
  /** Ends the connection from the server's side, asynchronously. */
  close(error?: Error): void
  isEnded(): boolean
}

function createPeer(path: string, wiring: PeerWiring) {
  const decoder = new WireDecoder({ decodeText: (bytes, start, end) => Buffer.prototype.utf8Slice.call(bytes, start, end) })
  const received: ClientMessage[] = []
  const inbox = new Inbox<DecodeResult<ClientMessage>>()
  const listeners = new Set<(message: ClientMessage) => void>()
  let closing = false
  let binaryFrames = 0
  let markClosed!: () => void
  const closed = new Promise<void>((resolve) => {
    markClosed = resolve
  })

  const view: MemoryPeer = {
    path,
    received,
    async next() {
      const decoded = await inbox.take()
      if (!decoded.ok) throw decoded.error
      return decoded.message
    },
    onMessage(listener) {
      listeners.add(listener)
      return () => {
        listeners.delete(listener)
      }
    },
    send(message) {
      view.sendRaw(encodeServerMessage(message))
    },
    sendRaw(chunk) {
      if (!closing) wiring.deliver(chunk)
    },
    get binaryFrames() {
      return binaryFrames
    },
    close(error) {
      if (closing) return
      closing = true
      wiring.close(error)
    },
    get ended() {
      return wiring.isEnded()
    },
    closed,
  }

  return {
    view,
    /** The client wrote `frame`: the server reads it a microtask later, as from a socket. */
    written(bytes: Uint8Array) {
      const frames = decoder.push(bytes)
      queueMicrotask(() => {
        for (const frame of frames) {
          if (typeof frame !== 'string') binaryFrames++
          const decoded = decodeClientMessage(frame)
          if (decoded.ok) {
            received.push(decoded.message)
            for (const listener of listeners) listener(decoded.message)
          }
          inbox.put(decoded)
        }
      })
    },
    ended() {
      closing = true
      inbox.end(new Error(`the connection to ${path} ended`))
      markClosed()
    },
  }
}
