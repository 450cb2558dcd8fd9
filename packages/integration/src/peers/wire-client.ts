// A client on a plain `node:net` socket that reads both kinds of frame, to see on the wire which
// kind the server sent: JSON text or binary. Tests drive it by hand, as they do RawClient.
import { connect as netConnect, type Socket } from 'node:net'
import {
  type ClientMessage,
  PROTOCOL_VERSION,
  type ServerMessage,
  WireDecoder,
  decodeServerMessage,
  encodeBinaryFrame,
  encodeClientMessage,
} from '@ipc-state/protocol/wire'

/** One frame the server sent, decoded, and which kind of frame carried it. */
export interface WireReceived {
  kind: 'text' | 'binary'
  message: ServerMessage
}

/** Milliseconds a wire client waits for an expected frame before failing the test. */
const EXPECT_WITHIN_MS = 15_000

/** A hand-driven client that records every byte and frame the server sends it. */
export class WireClient implements AsyncDisposable {
  readonly socket: Socket
  readonly received: WireReceived[] = []
  /** Every byte the server sent, in order. */
  readonly bytes: Buffer[] = []
  readonly closed: Promise<void>
  isClosed = false
  readonly #decoder = new WireDecoder({
    maxFrameBytes: Number.MAX_SAFE_INTEGER,
    decodeText: (bytes, start, end) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8', start, end),
  })
  #changed: (() => void)[] = []

  private constructor(socket: Socket) {
    this.socket = socket
    socket.on('error', () => {
      // A refused peer sees resets; the test looks at `closed`.
    })
    socket.on('data', (chunk: Buffer) => {
      this.bytes.push(chunk)
      for (const frame of this.#decoder.push(chunk)) {
        const decoded = decodeServerMessage(frame)
        if (!decoded.ok) throw new Error(`the server sent a frame that does not decode: ${decoded.error.message}`)
        this.received.push({ kind: typeof frame === 'string' ? 'text' : 'binary', message: decoded.message })
      }
      for (const wake of this.#changed.splice(0)) wake()
    })
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.isClosed = true
        for (const wake of this.#changed.splice(0)) wake()
        resolve()
      }),
    )
  }

  /** Connects to `path`, and says hello, offering binary frames when `binary`. */
  static async hello(path: string, options: { binary: boolean; replica?: boolean }): Promise<WireClient> {
    const socket = netConnect({ path })
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject)
      socket.once('connect', () => {
        socket.off('error', reject)
        resolve()
      })
    })
    const client = new WireClient(socket)
    const clientId = `wire-${process.pid}-${Math.random().toString(36).slice(2)}`
    const replica = options.replica ?? false
    await client.send({
      type: 'hello',
      data: { id: 0, protocol: PROTOCOL_VERSION, clientId, replica, ...(options.binary ? { binary: true } : {}) },
    })
    await client.response(0)
    return client
  }

  /** Every byte received so far, as one buffer. */
  get wire(): Buffer {
    return Buffer.concat(this.bytes)
  }

  /** Sends `message` as a binary frame when it is large enough to be one, else as JSON text. */
  send(message: ClientMessage, options: { binary?: boolean } = {}): Promise<void> {
    const binary = options.binary === true ? encodeBinaryFrame(message) : undefined
    return this.write(binary === undefined ? encodeClientMessage(message) : Buffer.from(binary))
  }

  /** Writes bytes as given. */
  write(chunk: string | Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(chunk, (error) => (error ? reject(error) : resolve())))
  }

  /** The response to request `id`, and the kind of frame that carried it. */
  async response(id: number): Promise<WireReceived & { message: Extract<ServerMessage, { type: 'response' }> }> {
    const found = await this.waitFor((r) => r.message.type === 'response' && r.message.data.id === id, `the response to ${id}`)
    return found as WireReceived & { message: Extract<ServerMessage, { type: 'response' }> }
  }

  /** The first frame received (or still to come) that `match` accepts. */
  async waitFor(match: (received: WireReceived) => boolean, what: string): Promise<WireReceived> {
    const deadline = Date.now() + EXPECT_WITHIN_MS
    for (;;) {
      const found = this.received.find(match)
      if (found !== undefined) return found
      if (this.isClosed) throw new Error(`the connection closed before ${what}`)
      if (Date.now() > deadline) throw new Error(`no ${what} within ${EXPECT_WITHIN_MS} ms`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))
        this.#changed.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.socket.destroy()
    await this.closed
  }
}
