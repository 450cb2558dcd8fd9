// The server-wide bounds on queued output and unfinished input, and which connection is cut off to keep them.
import { FRAME_ENVELOPE_BYTES } from '../state/state-size.js'
import { ErrorCode, IpcStateError } from '@ipc-state/protocol'

/** The server-wide bounds, and their defaults, that no single connection's limit gives. */
export const BudgetDefaults = {
  /** Bytes queued for all clients together. */
  MAX_TOTAL_BUFFERED_BYTES: 256 * 1024 * 1024,
  /** Bytes of frames started and not finished, over all clients together. */
  MAX_TOTAL_PENDING_BYTES: 64 * 1024 * 1024,
  /** How long a client may take to finish a frame it started, in milliseconds. */
  FRAME_TIMEOUT_MS: 5_000,
} as const

/**
 * What queued output costs beyond its bytes, as the budget counts it: measured on Node 20 with
 * peers that do not read. A write handed to a socket costs about 120 bytes of heap and 180 of RSS
 * (the socket's entry, its callback, our record), so a connection's queue waits in an array instead,
 * and only what the socket takes (about 16 KiB) is handed to it. Without these figures, a million
 * tiny changes queued for a thousand slow replicas would count for almost nothing.
 */
export const QueueCosts = {
  /** Each distinct buffer or string held for output, once: its objects. */
  CHUNK: 128,
  /** Each frame waiting in a connection's queue: its slot in an array, as V8 grows them. */
  WAITING: 32,
  /** Each run of consecutive changes waiting in a connection's queue, however long: one object. */
  RUN: 64,
  /** Each write handed to the transport and not written yet. */
  HANDED: 256,
} as const

/**
 * Encoded bytes that any number of connections may queue: a change goes to every replica, a
 * snapshot to every `hello`, `state/get` and `getSharedData` at its version. The transport writes
 * the same bytes to each socket, so they are held once, and counted once, however many queue them.
 */
export class SharedBytes {
  readonly bytes: Uint8Array
  /** A snapshot of the whole state: one connection's limit looks past it (see `Session`). */
  readonly snapshot: boolean
  /** Queued writes of these bytes, over every connection. */
  refs = 0
  /** Held by its owner anyway (the snapshot cache, for the current version): not counted then. */
  pinned = false
  /** Whether this is a change, one of a chain: the fan-out links each to the next. */
  readonly change: boolean
  /** The change published after this one: a replica's queue holds a run of them as one entry. */
  next: SharedBytes | undefined = undefined

  constructor(bytes: Uint8Array, kind: 'snapshot' | 'change' | 'other' = 'other') {
    this.bytes = bytes
    this.snapshot = kind === 'snapshot'
    this.change = kind === 'change'
  }

  /**
   * Encodes `text` as UTF-8, to be shared, in a buffer of its own: a small one cut from Node's
   * shared pool would keep the whole 8 KiB slab alive for as long as a slow replica queues it.
   */
  static of(text: string, kind: 'snapshot' | 'change' | 'other' = 'other'): SharedBytes {
    const bytes = Buffer.allocUnsafeSlow(Buffer.byteLength(text))
    bytes.write(text, 'utf8')
    return new SharedBytes(bytes, kind)
  }
}

/** What the budget knows of one connection, and how it stops serving one to make room. */
export interface BudgetMember {
  /** Bytes queued for it and not written yet, shared ones included. */
  readonly queuedBytes: number
  /** Bytes of the frame it started and has not finished. */
  readonly pendingBytes: number
  /** Refuses the connection with `error`; it must release its output and input at once. */
  shed(error: IpcStateError): void
}

/** The limits of a {@link MemoryBudget}. */
export interface MemoryBudgetLimits {
  maxTotalBufferedBytes: number
  maxTotalPendingBytes: number
}

/**
 * One bound on the output queued for all connections and one on the unfinished input held for all
 * of them, on top of each connection's own limits: without it, 1,024 connections times 64 MiB
 * each is more memory than a small machine has. Output counts the bytes each connection queued
 * privately, each shared buffer once while anyone queues it, and what each queued part costs
 * besides (see {@link QueueCosts}). When either total passes its bound, the connections holding the most are cut until
 * it fits: the slowest consumer, or the largest unfinished frame, goes first. Connections that hold
 * as much but for an envelope (the same snapshot behind a version of more digits) go oldest first.
 */
export class MemoryBudget {
  readonly #limits: MemoryBudgetLimits
  readonly #members = new Set<BudgetMember>()
  #queued = 0
  #pending = 0
  #settling = false

  constructor(limits: MemoryBudgetLimits) {
    this.#limits = limits
  }

  /** Output bytes counted now, over all connections. */
  get queuedBytes(): number {
    return this.#queued
  }

  /** Unfinished input bytes held now, over all connections. */
  get pendingBytes(): number {
    return this.#pending
  }

  /** Counts `member` among those that may be cut. */
  join(member: BudgetMember): void {
    this.#members.add(member)
  }

  /** Stops counting `member` among those that may be cut. */
  leave(member: BudgetMember): void {
    this.#members.delete(member)
  }

  /** @internal Counts `bytes` more (or fewer) of output; {@link settle} makes room afterwards. */
  charge(bytes: number): void {
    this.#queued += bytes
  }

  /** @internal One more queued write of `shared`. */
  hold(shared: SharedBytes): void {
    if (shared.refs++ === 0 && !shared.pinned) this.#queued += shared.bytes.length + QueueCosts.CHUNK
  }

  /** @internal One fewer queued write of `shared`. */
  drop(shared: SharedBytes): void {
    if (--shared.refs === 0 && !shared.pinned) this.#queued -= shared.bytes.length + QueueCosts.CHUNK
  }

  /** Its owner holds `shared` anyway: queued writes of it cost nothing more. */
  pin(shared: SharedBytes): void {
    if (shared.pinned) return
    shared.pinned = true
    if (shared.refs > 0) this.#queued -= shared.bytes.length + QueueCosts.CHUNK
  }

  /** Its owner let `shared` go: from now on it costs what its queued writes keep alive. */
  unpin(shared: SharedBytes): void {
    if (!shared.pinned) return
    shared.pinned = false
    if (shared.refs > 0) this.#queued += shared.bytes.length + QueueCosts.CHUNK
    this.settle()
  }

  /** Counts `delta` more (or fewer) unfinished input bytes, then makes room if needed. */
  changePending(delta: number): void {
    this.#pending += delta
    if (delta > 0) this.settle()
  }

  /** Cuts the connections holding the most until both totals fit their bounds. */
  settle(): void {
    // A cut releases memory, which never calls back here; a cut made while settling is enough.
    if (this.#settling) return
    this.#settling = true
    try {
      const { maxTotalBufferedBytes, maxTotalPendingBytes } = this.#limits
      while (this.#queued > maxTotalBufferedBytes) {
        const slowest = this.#largest((member) => member.queuedBytes)
        if (slowest === undefined) break
        this.#members.delete(slowest)
        slowest.shed(
          new IpcStateError(
            ErrorCode.SLOW_CONSUMER,
            `The server's output queued for all clients passed ${maxTotalBufferedBytes} bytes (option maxTotalBufferedBytes); ` +
              `this client had the most queued, ${slowest.queuedBytes} bytes`,
          ),
        )
      }
      while (this.#pending > maxTotalPendingBytes) {
        const largest = this.#largest((member) => member.pendingBytes)
        if (largest === undefined) break
        this.#members.delete(largest)
        largest.shed(
          new IpcStateError(
            ErrorCode.FRAME_TOO_LARGE,
            `Unfinished frames from all clients passed ${maxTotalPendingBytes} bytes (option maxTotalPendingBytes); ` +
              `this client's was the largest, ${largest.pendingBytes} bytes`,
            { data: { limit: maxTotalPendingBytes } },
          ),
        )
      }
    } finally {
      this.#settling = false
    }
  }

  /**
   * The member holding the most, by `size`; of those within one message envelope of it (the same
   * snapshot behind a version number of more digits) and a thousandth, the one that joined first.
   */
  #largest(size: (member: BudgetMember) => number): BudgetMember | undefined {
    let most = 0
    for (const member of this.#members) most = Math.max(most, size(member))
    if (most === 0) return undefined
    const near = most - Math.min(FRAME_ENVELOPE_BYTES, most / 1000)
    for (const member of this.#members) if (size(member) >= near) return member
    return undefined
  }
}
