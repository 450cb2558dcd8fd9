// One client connection: its framing, what its handshake said, its calls in flight, and every write to it.
import { ErrorCode, IpcStateError, toIpcStateError, type Logger } from '@ipc-state/protocol'
import { WireDecoder, type WireFrame, ServerMessageType, encodeServerMessage } from '@ipc-state/protocol/wire'
import { encodeErrorResponse, encodeProtocolError } from './error-frames.js'
import { InputDeadlines } from './input-deadlines.js'
import type { BudgetMember, MemoryBudget, SharedBytes } from './memory-budget.js'
import { type OutputFrame, OutputQueue } from './output-queue.js'
import type { SnapshotFrame } from './state-frames.js'
import { CLOSE_GRACE_MS, type TransportConnection } from '../transport/transport.js'

// Where action-calls.ts and sessions.ts have always taken them from.
export { encodeErrorResponse, encodeProtocolError } from './error-frames.js'

const decodeText = (bytes: Uint8Array, start: number, end: number): string => Buffer.prototype.utf8Slice.call(bytes, start, end)

/** How long a new connection may go without introducing itself, by default. */
export const HANDSHAKE_TIMEOUT_MS = 10_000

/** Options for a {@link Session}. */
export interface SessionOptions {
  /** The largest frame the peer may send, in bytes. */
  maxFrameBytes: number
  /** Bytes that may queue for a peer that does not read, beyond a snapshot, before it is cut off. */
  maxBufferedBytes: number
  /** How long the peer may take to finish a frame it started, in milliseconds. */
  frameTimeout: number
  /** How long a new peer may take to say hello (or the seed's `getSharedData`), in milliseconds. */
  handshakeTimeout: number
  /** The server-wide bounds this session's output and input count against. */
  budget: MemoryBudget
  /** Sends the answers and changes gathered for this turn (see FanOut), before anything else is written. */
  flushGathered(): void
  logger: Logger
  /** Called once when the server stops serving the session: it was refused, or it closed. */
  onEnd(session: Session): void
}

/**
 * One client connection: its framing, what it said in its handshake, what it has in flight, and
 * the one way everything is written to it. Refusing it sends a last `protocol/error` with the
 * reason, then closes it; a peer that stops reading is refused with `SLOW_CONSUMER`, one that
 * leaves a frame unfinished past `frameTimeout`, or has not introduced itself (see
 * {@link introduced}) within `handshakeTimeout` of connecting, whatever else it sent, with `TIMEOUT`.
 */
export class Session implements BudgetMember {
  readonly connection: TransportConnection
  readonly #decoder: WireDecoder
  readonly #options: SessionOptions
  readonly #output: OutputQueue
  #open = true
  /** Unfinished input counted in the budget. */
  #pending = 0
  readonly #deadlines: InputDeadlines
  /** Who the client says it is, once it said hello. */
  clientId: string | undefined = undefined
  /** Keys this client's record of answered calls. */
  instanceId: string | undefined = undefined
  /** Whether it keeps a replica and gets every change. */
  replica = false
  /** Action calls queued and not answered yet. */
  inFlight = 0
  /**
   * Whether the peer said in its hello that it reads and writes binary frames: then it may send
   * them, and large snapshots go to it as one.
   */
  binary = false
  /**
   * Whether the peer said in its hello that it reads batched frames: a turn's changes in one frame,
   * with the answers they show inside, and its other answers in one frame.
   */
  batch = false
  /** Whether answers to it are gathered for the end of this turn (see FanOut). */
  gathered = false
  /** Binary frames read from the peer, and written to it. */
  binaryFramesReceived = 0
  binaryFramesSent = 0

  constructor(connection: TransportConnection, options: SessionOptions) {
    this.connection = connection
    this.#options = options
    this.#output = new OutputQueue(options.budget, connection)
    this.#decoder = new WireDecoder({ maxFrameBytes: options.maxFrameBytes, decodeText })
    this.#deadlines = new InputDeadlines({
      frameTimeout: options.frameTimeout,
      handshakeTimeout: options.handshakeTimeout,
      pendingBytes: () => (this.#open ? this.#pending : 0),
      expired: (error) => this.refuse(error),
    })
  }

  /** Whether the server still reads from and writes to this session. */
  get open(): boolean {
    return this.#open
  }

  /** Bytes queued for the peer and not written yet, exactly. */
  get queuedBytes(): number {
    return this.#output.bytes
  }

  /** Bytes of the frame the peer started and has not finished. */
  get pendingBytes(): number {
    return this.#pending
  }

  /**
   * Takes the next chunk the peer sent and returns the frames it completes: JSON text, or the body
   * of a binary frame. A frame past `maxFrameBytes` loses the stream's framing: the session is
   * refused and nothing more is read; so is it for a binary frame from a peer that did not offer
   * them in its hello.
   */
  read(chunk: Uint8Array): WireFrame[] {
    if (!this.#open) return []
    let frames: WireFrame[]
    try {
      frames = this.#decoder.push(chunk)
    } catch (error) {
      this.refuse(toIpcStateError(error))
      return []
    }
    for (const frame of frames) {
      if (typeof frame === 'string') continue
      if (!this.binary) {
        this.refuse(
          new IpcStateError(ErrorCode.BAD_REQUEST, 'A binary frame came from a client that did not offer them in its hello'),
        )
        return []
      }
      this.binaryFramesReceived++
    }
    const pending = this.#decoder.pendingBytes
    this.#deadlines.read(frames.length, pending, this.#pending)
    const delta = pending - this.#pending
    this.#pending = pending
    // May cut this session, or another, to keep all unfinished input within the budget.
    if (delta !== 0) this.#options.budget.changePending(delta)
    return this.#open ? frames : []
  }

  /**
   * Writes one frame, unless the peer has fallen too far behind: a peer that does not read must
   * not make the server's memory grow. Shared bytes (a change, a snapshot) are written as they are.
   */
  send(frame: string | SharedBytes): void {
    this.#write(frame)
  }

  /**
   * Writes a frame that carries the whole state, whose bytes are shared (see StateFrames): as a
   * binary frame to a peer that reads them, when the state is large enough to gain from it.
   */
  sendSnapshot(frame: SnapshotFrame): void {
    const binary = this.binary ? frame.binary() : undefined
    if (binary === undefined) this.#write([frame[0], frame[1], frame[2]])
    else {
      this.binaryFramesSent++
      this.#write(binary)
    }
  }

  /** Answers request `id` with `result`; a result that cannot be encoded is answered `INTERNAL_ERROR`. */
  respond(id: number, result: unknown): void {
    let frame: string
    try {
      frame = encodeServerMessage({ type: ServerMessageType.Response, data: { id, result } })
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      this.fail(id, new IpcStateError(ErrorCode.INTERNAL_ERROR, `The answer to request ${id} could not be encoded: ${reason}`))
      return
    }
    this.send(frame)
  }

  /** Answers request `id` with `error`. */
  fail(id: number, error: IpcStateError): void {
    this.send(encodeErrorResponse(id, error))
  }

  /**
   * The peer introduced itself: the server took its hello, or answered the seed's `getSharedData`.
   * Stops the handshake clock, which nothing else stops.
   */
  introduced(): void {
    this.#deadlines.introduced()
  }

  /** Sends a last message, then closes: the peer gets its reason, and nothing more is read. */
  refuse(error: IpcStateError): void {
    if (!this.#end()) return
    this.#options.logger.warn?.('closing connection', { code: error.code, reason: error.message, clientId: this.clientId })
    this.connection.write(Buffer.from(encodeProtocolError(error, true), 'utf8'))
    this.connection.end()
    setTimeout(() => this.connection.destroy(), CLOSE_GRACE_MS).unref()
  }

  /** The memory budget needs room: see {@link refuse}. */
  shed(error: IpcStateError): void {
    this.refuse(error)
  }

  /**
   * Writes `frame` as the session's last message, whatever the peer's backlog: the server is going
   * away, and its transport closes the connection.
   */
  sayGoodbye(frame: string): void {
    if (!this.#open) return
    this.#output.flush()
    this.#end()
    this.connection.write(Buffer.from(frame, 'utf8'))
  }

  /**
   * The peer said goodbye: nothing more is read from it, what was written goes out, and the
   * connection ends (destroyed after a grace if the peer keeps it open).
   */
  finish(): void {
    if (!this.#open) return
    this.#output.flush()
    this.#end()
    this.connection.end()
    setTimeout(() => this.connection.destroy(), CLOSE_GRACE_MS).unref()
  }

  /** The transport takes writes again: what waits goes out. */
  drain(): void {
    this.#output.drain()
  }

  /** The transport reports the connection gone. */
  closed(): void {
    this.#end()
  }

  #write(frame: OutputFrame): void {
    if (!this.#open) return
    // What this turn gathered for the peer goes before: it answers earlier requests.
    if (this.gathered) this.#options.flushGathered()
    const { maxBufferedBytes, budget } = this.#options
    // A snapshot is one frame the peer must take whole: only what queued besides it counts here.
    const behind = this.#output.bytes - this.#output.snapshotBytes
    if (behind > maxBufferedBytes) {
      this.refuse(
        new IpcStateError(
          ErrorCode.SLOW_CONSUMER,
          `The client fell more than ${maxBufferedBytes} bytes behind (option maxBufferedBytes)`,
        ),
      )
      return
    }
    this.#output.push(frame)
    budget.settle()
  }

  /** Stops serving and releases what the session held; false when it had already stopped. */
  #end(): boolean {
    if (!this.#open) return false
    this.#open = false
    this.#deadlines.stop()
    this.#output.release()
    this.#decoder.reset()
    const pending = this.#pending
    this.#pending = 0
    if (pending > 0) this.#options.budget.changePending(-pending)
    this.#options.onEnd(this)
    return true
  }
}
