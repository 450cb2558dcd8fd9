// Gathers what one tick writes to a socket into one system call, and says when the peer falls behind.
import type { Socket } from 'node:net'

/** Chunks up to this size are copied together; larger ones (a snapshot) are written as they are. */
const GATHER_BYTES = 64 * 1024

/**
 * Bytes a connection may hold in its socket and gathered before it says stop, whatever Node's
 * default (16 KiB up to Node 20, 64 KiB from Node 22): a socket's bytes are copies private to its
 * connection, so with a thousand slow replicas this mark, not the memory budget, bounds them.
 */
export const HIGH_WATER_BYTES = 16 * 1024

/**
 * The server's one place that gathers writes into a system call (see `TransportConnection`).
 * Writes to one socket what a tick makes in one system call: the socket is corked at the tick's
 * first write and uncorked once its work is done. Small chunks are gathered and copied into one
 * buffer, since each part of a write costs far more than copying a small frame; large chunks (a
 * snapshot) are never copied and go after what was gathered before them. Says when to stop at
 * {@link HIGH_WATER_BYTES}, counting what is gathered.
 */
export class TickWriter {
  readonly #socket: Socket
  readonly #drained: () => void
  #chunks: Uint8Array[] = []
  #written: (() => void)[] = []
  #bytes = 0
  /** A write said stop: the first write done, or 'drain', that leaves less than the mark says go. */
  #owesDrain = false
  #corked = false

  /** @param drained called when the writer takes more after a write said stop */
  constructor(socket: Socket, drained: () => void) {
    this.#socket = socket
    this.#drained = drained
    socket.on('drain', this.#wrote)
  }

  /** Bytes written and not yet gone to the system: the socket's and those gathered. */
  get bufferedBytes(): number {
    return this.#socket.writableLength + this.#bytes
  }

  /**
   * Queues `bytes`; `written` is called once they are gone (or dropped by a destroyed socket).
   * @returns false when the caller should wait for the drain callback before writing more
   */
  write(bytes: Uint8Array, written: (() => void) | undefined): boolean {
    if (!this.#corked) {
      this.#corked = true
      this.#socket.cork()
      process.nextTick(this.#endTick)
    }
    if (bytes.length > GATHER_BYTES) {
      this.#flush()
      this.#socket.write(bytes, () => {
        written?.()
        this.#wrote()
      })
    } else {
      this.#chunks.push(bytes)
      if (written !== undefined) this.#written.push(written)
      this.#bytes += bytes.length
    }
    if (this.bufferedBytes < HIGH_WATER_BYTES) return true
    this.#owesDrain = true
    return false
  }

  /** Writes what was gathered, then ends the socket once everything written is gone. */
  end(): void {
    this.#flush()
    this.#socket.end()
  }

  readonly #endTick = (): void => {
    this.#flush()
    this.#corked = false
    this.#socket.uncork()
  }

  #flush(): void {
    if (this.#chunks.length === 0) return
    const chunks = this.#chunks
    const written = this.#written
    this.#chunks = []
    this.#written = []
    this.#bytes = 0
    const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
    this.#socket.write(bytes, () => {
      for (const callback of written) callback()
      this.#wrote()
    })
  }

  /** Some bytes are gone: if a write said stop and the bytes left are under the mark, take more. */
  readonly #wrote = (): void => {
    if (!this.#owesDrain || this.#socket.destroyed || this.bufferedBytes >= HIGH_WATER_BYTES) return
    this.#owesDrain = false
    this.#drained()
  }
}
