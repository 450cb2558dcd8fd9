// Helpers for the hardening tests: a server fixture with its stdin commands, and a raw socket
// client that speaks the wire format byte for byte, so tests can send what no real client would.
import { connect as netConnect, type Socket } from 'node:net'
import { fixture, startFixture, tempSocketRoot, type FixtureEvent, type FixtureProcess, type TempSocketRoot } from './processes.js'

/** The socket path the server fixture listens at for a socket root (its default appspace and id). */
export const serverPath = (socketRoot: string): string => `${socketRoot}test.server`

export interface ServerStats {
  rss: number
  connections: number
  fds: number | undefined
}

export interface ServerView {
  state: { counter: number; messages: { id: number; text: string; from: string; at: number }[] }
  version: number
  epoch: string
}

/** A running server fixture plus the folder it listens in; disposing kills it and removes the folder. */
export interface ServerHandle extends AsyncDisposable {
  readonly process: FixtureProcess
  readonly socketRoot: string
  readonly path: string
  readonly epoch: string
  /** Asks the fixture for its state through stdin and waits for the answer. */
  view(): Promise<ServerView>
  /** Asks the fixture for RSS, connection count and open file descriptors. */
  stats(): Promise<ServerStats>
}

/** Sends one stdin command to a fixture and waits for the first `event` printed after it. */
export async function ask(process: FixtureProcess, command: string, event: string = command): Promise<FixtureEvent> {
  const after = process.events.length
  const answer = process.waitFor((e) => e.event === event && process.events.indexOf(e) >= after)
  process.child.stdin!.write(`${command}\n`)
  return answer
}

export interface StartServerOptions {
  /** Env passed to the fixture (MAX_FRAME_BYTES and the like). */
  env?: Record<string, string>
  /** An existing socket root; by default a fresh temporary one, removed on dispose. */
  socketRoot?: string
  /** The fixture script. @default fixtures/server.ts */
  script?: string
}

/** Starts the server fixture and waits for it to listen. */
export async function startServer(options: StartServerOptions = {}): Promise<ServerHandle> {
  const dir: TempSocketRoot | undefined = options.socketRoot === undefined ? await tempSocketRoot() : undefined
  const socketRoot = options.socketRoot ?? dir!.socketRoot
  const child = startFixture(options.script ?? fixture('server.ts'), {
    env: { IPC_STATE_SOCKET_ROOT: socketRoot, ...options.env },
  })
  let ready: FixtureEvent
  try {
    ready = await child.waitFor((e) => e.event === 'ready' || e.event === 'error')
    if (ready.event !== 'ready') throw new Error(`server fixture failed to start: ${JSON.stringify(ready)}`)
  } catch (error) {
    await child[Symbol.asyncDispose]()
    await dir?.[Symbol.asyncDispose]()
    throw error
  }
  return {
    process: child,
    socketRoot,
    path: ready.path as string,
    epoch: ready.epoch as string,
    view: async () => (await ask(child, 'state')) as unknown as ServerView,
    stats: async () => (await ask(child, 'stats')) as unknown as ServerStats,
    [Symbol.asyncDispose]: async () => {
      await child[Symbol.asyncDispose]()
      await dir?.[Symbol.asyncDispose]()
    },
  }
}

/** Lines a process wrote that look like a crash or a warning. */
export function crashLines(process: FixtureProcess): string[] {
  return process.output.filter((line) => /error|exception|uncaught|warning|\bat .+:\d+/i.test(line))
}

/** One frame received from the server, as parsed JSON (or the raw text when it is not JSON). */
export interface ReceivedFrame {
  type: string
  data: any
}

/** Milliseconds a raw client waits for an expected frame before failing the test with a clear message. */
const EXPECT_WITHIN_MS = 15_000

/**
 * A hand-driven client on a plain `node:net` socket. It parses what the server sends into frames
 * but sends only what the test gives it, byte for byte.
 */
export class RawClient implements AsyncDisposable {
  readonly socket: Socket
  readonly frames: ReceivedFrame[] = []
  /** Everything received, in bytes, including a trailing partial frame. */
  bytesReceived = 0
  /** Resolves when the socket has closed, for whatever reason. */
  readonly closed: Promise<void>
  isClosed = false
  #buffer = ''
  #waiters: { match: (frame: ReceivedFrame) => boolean; resolve(frame: ReceivedFrame): void; reject(error: Error): void }[] = []

  private constructor(socket: Socket) {
    this.socket = socket
    socket.setEncoding('utf8')
    socket.on('error', () => {
      // A hostile peer sees resets and broken pipes; the test looks at `closed` instead.
    })
    socket.on('data', (text: string) => {
      this.bytesReceived += Buffer.byteLength(text)
      this.#buffer += text
      let end = this.#buffer.indexOf('\f')
      while (end !== -1) {
        const raw = this.#buffer.slice(0, end)
        this.#buffer = this.#buffer.slice(end + 1)
        end = this.#buffer.indexOf('\f')
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
  static connect(path: string, options: { allowHalfOpen?: boolean } = {}): Promise<RawClient> {
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
  static async hello(path: string, options: { clientId?: string; replica?: boolean; id?: number } = {}): Promise<RawClient> {
    const client = await RawClient.connect(path)
    const id = options.id ?? 0
    await client.sendFrame('hello', {
      id,
      protocol: 1,
      clientId: options.clientId ?? `raw-${process.pid}-${Math.random().toString(36).slice(2)}`,
      replica: options.replica ?? false,
    })
    const response = await client.response(id)
    if (response.data.error !== undefined) throw new Error(`hello failed: ${JSON.stringify(response.data.error)}`)
    return client
  }

  /** Writes text or bytes as given; resolves once the socket took them. */
  send(chunk: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(chunk, (error) => (error ? reject(error) : resolve())))
  }

  /** Writes one well-formed frame. */
  sendFrame(type: string, data?: unknown): Promise<void> {
    return this.send(`${JSON.stringify({ type, data })}\f`)
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
    return this.waitFor((f) => f.type === 'response' && f.data?.id === id, `response to id ${id}`)
  }

  /** The next `protocol/error` after the first `after` frames. */
  protocolError(after = 0): Promise<ReceivedFrame> {
    return this.waitFor((f) => f.type === 'protocol/error' && this.frames.indexOf(f) >= after, 'protocol/error')
  }

  /** Waits for the socket to close, failing the test if it does not within the deadline. */
  async expectClosed(): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      this.closed,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the server did not close the connection within ${EXPECT_WITHIN_MS} ms`)), EXPECT_WITHIN_MS)
      }),
    ])
    clearTimeout(timer)
  }

  describe(): string {
    const shown = this.frames.slice(-5).map((f) => JSON.stringify(f).slice(0, 300))
    return `${this.frames.length} frame(s)${shown.length > 0 ? `, last: ${shown.join(' | ')}` : ''}`
  }

  async close(): Promise<void> {
    if (!this.isClosed) this.socket.destroy()
    await this.closed
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close()
  }
}

/** Median and maximum of a list of numbers. */
export function summarize(values: number[]): { count: number; p50: number; p99: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN
  return { count: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] ?? Number.NaN }
}

export const MiB = 1024 * 1024
export const mib = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`
