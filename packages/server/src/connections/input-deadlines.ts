// The clocks on what one peer sends: its introduction, and each frame it starts.
import { ErrorCode, IpcStateError } from '@ipc-state/protocol'

/** What {@link InputDeadlines} needs to know and to do. */
export interface InputDeadlinesOptions {
  /** How long the peer may take to finish a frame it started, in milliseconds. */
  frameTimeout: number
  /** How long a new peer may take to introduce itself (see {@link InputDeadlines.introduced}), in milliseconds. */
  handshakeTimeout: number
  /** Bytes of the unfinished frame now, for the message. */
  pendingBytes(): number
  /** Called once a deadline passed: the session refuses the peer with `error`. */
  expired(error: IpcStateError): void
}

/**
 * The two clocks on what one peer sends: it must introduce itself (a hello the server took, or the
 * seed's `getSharedData`) within `handshakeTimeout` of connecting, and each frame it starts must end
 * within `frameTimeout`. Frames the server refused do not count: a peer that sends garbage, or
 * requests before its hello, is closed at the deadline as a silent one is, so it cannot hold a
 * connection slot for good. A
 * clock that runs out is judged after the event loop's next poll, so a server that was busy past
 * it reads what the peer sent meanwhile before it judges the peer.
 */
export class InputDeadlines {
  readonly #options: InputDeadlinesOptions
  /** Runs until the peer introduced itself: a connection that never does is closed. */
  #silence: ReturnType<typeof setTimeout> | undefined
  #frame: ReturnType<typeof setTimeout> | undefined
  /** When the unfinished frame began (`performance.now()`). */
  #partialSince = 0

  constructor(options: InputDeadlinesOptions) {
    this.#options = options
    const { handshakeTimeout } = options
    if (handshakeTimeout === Number.POSITIVE_INFINITY) return
    this.#silence = setTimeout(() => {
      setImmediate(() => {
        if (this.#silence === undefined) return
        this.#options.expired(
          new IpcStateError(ErrorCode.TIMEOUT, `No hello within ${handshakeTimeout} ms of connecting (option handshakeTimeout)`),
        )
      })
    }, handshakeTimeout)
    this.#silence.unref()
  }

  /**
   * After a read: `frames` frames completed, and `pending` bytes of the next are held, where
   * `before` were held until this read.
   */
  read(frames: number, pending: number, before: number): void {
    // A frame that began in this read (after another ended, or from nothing) starts its own clock.
    if (pending > 0 && (before === 0 || frames > 0)) {
      this.#partialSince = performance.now()
      this.#arm(this.#options.frameTimeout)
    }
  }

  /**
   * The peer introduced itself: its hello was taken, or the seed's request answered. Only then is
   * the handshake clock stopped; a complete frame alone proves nothing.
   */
  introduced(): void {
    clearTimeout(this.#silence)
    this.#silence = undefined
  }

  /** Stops both clocks, for a session that ended. */
  stop(): void {
    clearTimeout(this.#silence)
    this.#silence = undefined
    clearTimeout(this.#frame)
    this.#frame = undefined
  }

  #arm(after: number): void {
    if (this.#frame !== undefined || after === Number.POSITIVE_INFINITY) return
    this.#frame = setTimeout(() => {
      this.#frame = undefined
      setImmediate(() => this.#check())
    }, after)
    this.#frame.unref()
  }

  #check(): void {
    const pending = this.#options.pendingBytes()
    if (pending === 0) return
    const { frameTimeout } = this.#options
    const held = performance.now() - this.#partialSince
    if (held < frameTimeout) {
      this.#arm(frameTimeout - held)
      return
    }
    this.#options.expired(
      new IpcStateError(
        ErrorCode.TIMEOUT,
        `A frame stayed unfinished for more than ${frameTimeout} ms (${pending} bytes of it arrived; option frameTimeout)`,
      ),
    )
  }
}
