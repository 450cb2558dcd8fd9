// A client driven by hand on a plain `node:net` socket, to say on the wire what no real client would.
import { connect as netConnect, type Socket } from 'node:net'
import {
  type ClientMessage,
  FrameDecoder,
  PROTOCOL_VERSION,
  ServerMessageType,
  encodeClientMessage,
  encodeFrame,
} from '@ipc-state/protocol/wire'

/** One frame received from the server, as parsed JSON (or the raw text, typed `<not json>`, when it is not JSON). */
export interface ReceivedFrame {
  type: string
  data: any
}

/** Milliseconds a raw client waits for an expected frame before failing the test with a clear message. */
const EXPECT_WITHIN_MS = 15_000

export interface RawConnectOptions {
  /**
   * Keep this side writable after the server ends its side, as a peer that ignores it would.
   * @default false
   */
  allowHalfOpen?: boolean
}

export interface RawHelloOptions {
  /** @default a fresh random id */
  clientId?: string
  /** @default false */
  replica?: boolean
  /** Names the client instance across reconnects. @default the clientId, as the server takes it */
  instanceId?: string
  /** The hello's request id. @default 0 */
  id?: number
  /** Offer batched frames, as the library's client does. @default false */
  batch?: boolean
}

/** A client message that carries a request id, and so gets a response. */
export type RawRequest = Extract<ClientMessage, { data: { id: number } }>

/**
 * A hand-driven client on a plain `node:net` socket. It parses what the server sends into frames,
 * and sends only what the test gives it: a typed message (`send`), a frame of any type and data
 * (`sendFrame`), or bytes as they are (`write`), for the malformed input a hostile peer sends.
 */
export class RawClient implements AsyncDisposable {
  readonly socket: Socket
  readonly frames: ReceivedFrame[] = []
  /** Bytes received so far, including a trailing partial frame. */
  bytesReceived = 0
  /** Resolves when the socket has closed, for whatever reason. */
  readonly closed: Promise<void>
  isClosed = false
  // The server's frames may be large (a whole state); the server's own limit is what this test checks.
  readonly #decoder = new FrameDecoder({ maxFrameBytes: Number.MAX_SAFE_INTEGER, byteLength: Buffer.byteLength })
  #waiters: { match: (frame: ReceivedFrame) => boolean; resolve(frame: ReceivedFrame): void; reject(error: Error): void }[] = []

  private constructor(socket: Socket) {
    this.socket = socket
    socket.setEncoding('utf8')
    socket.on('error', () => {
      // A hostile peer sees resets and broken pipes; the test looks at `closed` instead.
    })
    socket.on('data', (text: string) => {
      this.bytesReceived += Buffer.byteLength(text)
      for (const raw of this.#decoder.push(text)) this.#received(raw)
    })
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true
        for (const waiter of this.#waiters.splice(0)) {
          waiter.reject(new Error(`the connection closed before the awaited frame; received ${this.describe()}`))
        }
        resolve()
      }),
    )
  }

  /** Connects a raw socket to `path`. */
  static connect(path: string, options: RawConnectOptions = {}): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ path, allowHalfOpen: options.allowHalfOpen ?? false })
      socket.once('error', reject)
      socket.once('connect', () => {
        socket.off('error', reject)
        resolve(new RawClient(socket))
      })
    })
  }

  /** Connects and completes the handshake. */
  static async hello(path: string, options: RawHelloOptions = {}): Promise<RawClient> {
    const client = await RawClient.connect(path)
    const id = options.id ?? 0
    await client.send({
      type: 'hello',
      data: {
        id,
        protocol: PROTOCOL_VERSION,
        clientId: options.clientId ?? `raw-${process.pid}-${Math.random().toString(36).slice(2)}`,
        replica: options.replica ?? false,
        ...(options.instanceId === undefined ? {} : { instanceId: options.instanceId }),
        ...(options.batch === true ? { batch: true } : {}),
      },
    })
    const response = await client.response(id)
    if (response.data.error !== undefined) throw new Error(`hello failed: ${JSON.stringify(response.data.error)}`)
    return client
  }

  /** Writes one well-formed client message, encoded by the protocol. */
  send(message: ClientMessage): Promise<void> {
    return this.write(encodeClientMessage(message))
  }

  /** Sends `message` and resolves with the response to its id. */
  async request(message: RawRequest): Promise<ReceivedFrame> {
    await this.send(message)
    return this.response(message.data.id)
  }

  /** Writes one frame of any type and data, such as a server's message forged by a client. */
  sendFrame(type: string, data?: unknown): Promise<void> {
    return this.write(encodeFrame(type, data))
  }

  /** Writes text or bytes as given; resolves once the socket took them. */
  write(chunk: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(chunk, (error) => (error ? reject(error) : resolve())))
  }

  /** The first frame (already received or still to come) that `match` accepts. */
  waitFor(match: (frame: ReceivedFrame) => boolean, what = 'a matching frame'): Promise<ReceivedFrame> {
    const seen = this.frames.find(match)
    if (seen !== undefined) return Promise.resolve(seen)
    if (this.isClosed) return Promise.reject(new Error(`the connection is closed; wanted ${what}; received ${this.describe()}`))
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const index = this.#waiters.indexOf(waiter)
        if (index !== -1) this.#waiters.splice(index, 1)
        reject(new Error(`no ${what} within ${EXPECT_WITHIN_MS} ms; received ${this.describe()}`))
      }, EXPECT_WITHIN_MS)
      const waiter = {
        match,
        resolve: (frame: ReceivedFrame) => {
          clearTimeout(timer)
          resolve(frame)
        },
        reject: (error: Error) => {
          clearTimeout(timer)
          reject(error)
        },
      }
      this.#waiters.push(waiter)
    })
  }

  /** The response to request `id`. */
  response(id: number): Promise<ReceivedFrame> {
    return this.waitFor((f) => f.type === ServerMessageType.Response && f.data?.id === id, `response to id ${id}`)
  }

  /** The first `protocol/error` from frame index `after` on. */
  protocolError(after = 0): Promise<ReceivedFrame> {
    return this.waitFor((f) => f.type === ServerMessageType.ProtocolError && this.frames.indexOf(f) >= after, 'protocol/error')
  }

  /** Waits for the socket to close, failing the test if it does not within the deadline. */
  async expectClosed(): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      this.closed,
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`the server did not close the connection within ${EXPECT_WITHIN_MS} ms`)),
          EXPECT_WITHIN_MS,
        )
      }),
    ])
    clearTimeout(timer)
  }

  /** The frame count and the last few frames, for failure messages. */
  describe(): string {
    const shown = this.frames.slice(-5).map((f) => JSON.stringify(f).slice(0, 300))
    return `${this.frames.length} frame(s)${shown.length > 0 ? `, last: ${shown.join(' | ')}` : ''}`
  }

  /** Destroys the socket (if still open) and waits for it to close. A second call does nothing more. */
  async close(): Promise<void> {
    if (!this.isClosed) this.socket.destroy()
    await this.closed
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }

  #received(raw: string): void {
    let frame: ReceivedFrame
    try {
      frame = JSON.parse(raw) as ReceivedFrame
    } catch {
      frame = { type: '<not json>', data: raw }
    }
    this.frames.push(frame)
    for (let i = this.#waiters.length - 1; i >= 0; i--) {
      if (this.#waiters[i]!.match(frame)) this.#waiters.splice(i, 1)[0]!.resolve(frame)
    }
  }
}
