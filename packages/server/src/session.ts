import {
  ErrorCode,
  FrameDecoder,
  IpcStateError,
  ServerMessageType,
  encodeServerMessage,
  toIpcStateError,
  type Logger,
  type ServerMessage,
  type WireError,
} from '@ipc-state/protocol'
import { InputDeadlines } from './input-deadlines.js'
import type { BudgetMember, MemoryBudget, SharedBytes } from './memory-budget.js'
import { type OutputFrame, OutputQueue } from './output-queue.js'
import type { SnapshotFrame } from './snapshot-cache.js'
import { CLOSE_GRACE_MS, type TransportConnection } from './transport.js'

/** An error's message is cut to this many characters on the wire. */
const MAX_ERROR_MESSAGE = 2_000
/** An error's details (`data`) are left out past this many characters of JSON. */
const MAX_ERROR_DATA = 32 * 1024

/**
 * An error as it goes on the wire, bounded: its message cut, and its details left out when they
 * are too large or cannot be encoded, so that no error can make a huge answer or fail to encode.
 */
function boundedWire(error: IpcStateError): WireError {
  let message = error.message.length > MAX_ERROR_MESSAGE ? `${error.message.slice(0, MAX_ERROR_MESSAGE)}…` : error.message
  if (error.data === undefined) return { code: error.code, message }
  let json: string | undefined
  try {
    json = JSON.stringify(error.data)
  } catch (cause) {
    message += ` (details left out: ${cause instanceof Error ? cause.message : 'not JSON'})`
    return { code: error.code, message }
  }
  if (json === undefined) return { code: error.code, message }
  if (json.length > MAX_ERROR_DATA) return { code: error.code, message: `${message} (details left out: ${json.length} characters)` }
  return { code: error.code, message, data: error.data }
}

/** Encodes `build(wire)`; if that still fails, the same message with only a code and a fixed text. */
function encodeError(error: IpcStateError, build: (wire: WireError) => ServerMessage): string {
  try {
    return encodeServerMessage(build(boundedWire(error)))
  } catch {
    return encodeServerMessage(build({ code: ErrorCode.INTERNAL_ERROR, message: 'An error could not be encoded' }))
  }
}

/** The answer to request `id` when it failed. Never throws: the error is bounded first. */
export const encodeErrorResponse = (id: number, error: IpcStateError): string =>
  encodeError(error, (wire) => ({ type: ServerMessageType.Response, data: { id, error: wire } }))

/** An error that answers no request: the frame had no usable id, or the connection is being cut. Never throws. */
export const encodeProtocolError = (error: IpcStateError, fatal: boolean): string =>
  encodeError(error, (wire) => ({ type: ServerMessageType.ProtocolError, data: { error: wire, fatal } }))

/** How long a new connection may go without a complete frame, by default. */
export const HANDSHAKE_TIMEOUT_MS = 10_000

/** Options for a {@link Session}. */
export interface SessionOptions {
  /** The largest frame the peer may send, in bytes. */
  maxFrameBytes: number
  /** Bytes that may queue for a peer that does not read, beyond a snapshot, before it is cut off. */
  maxBufferedBytes: number
  /** How long the peer may take to finish a frame it started, in milliseconds. */
  frameTimeout: number
  /** How long a new peer may stay silent before its first complete frame, in milliseconds. */
  handshakeTimeout: number
  /** The server-wide bounds this session's output and input count against. */
  budget: MemoryBudget
  logger: Logger
  /** Called once when the server stops serving the session: it was refused, or it closed. */
  onEnd(session: Session): void
}

/**
 * One client connection: its framing, what it said in its handshake, what it has in flight, and
 * the one way everything is written to it. Refusing it sends a last `protocol/error` with the
 * reason, then closes it; a peer that stops reading is refused with `SLOW_CONSUMER`, one that
 * leaves a frame unfinished past `frameTimeout`, or sends no complete frame within
 * `handshakeTimeout` of connecting, with `TIMEOUT`.
 */
export class Session implements BudgetMember {
  readonly connection: TransportConnection
  readonly #decoder: FrameDecoder
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

  constructor(connection: TransportConnection, options: SessionOptions) {
    this.connection = connection
    this.#options = options
    this.#output = new OutputQueue(options.budget, {
      write: (bytes, written) => connection.write(bytes, written),
      cork: () => connection.cork?.(),
      uncork: () => connection.uncork?.(),
    })
    this.#decoder = new FrameDecoder({ maxFrameBytes: options.maxFrameBytes, byteLength: Buffer.byteLength })
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
   * Takes the next chunk the peer sent and returns the frames it completes. A frame past
   * `maxFrameBytes` loses the stream's framing: the session is refused and nothing more is read.
   */
  read(text: string): string[] {
    if (!this.#open) return []
    let frames: string[]
    try {
      frames = this.#decoder.push(text)
    } catch (error) {
      this.refuse(toIpcStateError(error))
      return []
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

  /** Writes a frame that carries the whole state, whose bytes are shared (see SnapshotCache). */
  sendSnapshot([prefix, state, suffix]: SnapshotFrame): void {
    this.#write([prefix, state, suffix])
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

  /** Sends a last message, then closes: the peer gets its reason, and nothing more is read. */
  refuse(error: IpcStateError): void {
    if (!this.#end()) return
    this.#options.logger.warn?.('closing connection', { code: error.code, reason: error.message, clientId: this.clientId })
    this.connection.write(encodeProtocolError(error, true))
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
    this.connection.write(frame)
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
