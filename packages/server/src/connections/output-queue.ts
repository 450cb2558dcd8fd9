// One connection's frames waiting to be written: batched, shared where they can be, and counted against the budget.
import { type MemoryBudget, QueueCosts, type SharedBytes } from './memory-budget.js'

/** Where a queue's bytes go: one connection, as the transport gives it. */
export interface OutputSink {
  /**
   * Hands bytes to the transport, which calls `written` once they are gone; false when it wants
   * no more until the queue's {@link OutputQueue.drain} is called.
   */
  write(bytes: Uint8Array, written: () => void): boolean
}

/** One part of a frame: bytes shared with other connections, or text for this one alone. */
export type OutputPart = SharedBytes | string

/**
 * Tiny frames waiting when the transport drains are copied into one write of up to this many bytes
 * (a socket's buffer): each write handed over is counted in the budget with what it costs besides
 * its data, more than such a frame. Larger frames are handed over as they are, shared and never
 * copied (copying them would only make garbage at the pace slow readers read). Nothing is held
 * back to be gathered: making one system call of what a tick writes is the transport's job.
 */
const BATCH_BYTES = 16 * 1024
/** Frames up to this size are batched. */
const BATCH_PART_BYTES = 512

/** A write handed to the transport: what to release once it is written. */
interface Handed {
  size: number
  snapshot: number
  /** The shared bytes it holds, or undefined for a private buffer of `size` bytes. */
  shared: SharedBytes | undefined
}

/** One frame: a single part, or several written one after the other (a snapshot's three). */
export type OutputFrame = OutputPart | readonly OutputPart[]

/** Consecutive changes waiting, from `first` along `next`: one entry however many. */
class Run {
  first: SharedBytes
  last: SharedBytes
  count = 1
  constructor(change: SharedBytes) {
    this.first = change
    this.last = change
  }
}

const isShared = (part: OutputPart): part is SharedBytes => typeof part !== 'string'
const partsOf = (frame: OutputFrame): readonly OutputPart[] => (Array.isArray(frame) ? frame : [frame as OutputPart])
const sizeOf = (part: OutputPart): number => (isShared(part) ? part.bytes.length : Buffer.byteLength(part))
const frameSize = (frame: OutputFrame): number =>
  Array.isArray(frame) ? frame.reduce((sum: number, part: OutputPart) => sum + sizeOf(part), 0) : sizeOf(frame as OutputPart)

/**
 * One connection's output: every frame is counted in the memory budget from the moment it is
 * queued until the transport has written it (or the queue is released). The transport gets frames
 * only while it takes them (a socket's own buffer is about 16 KiB), and always whole, so that a last
 * message written after a release starts a frame of its own. The rest waits here, where it costs
 * little: consecutive changes (the bulk of what a slow replica falls behind on) are one entry, and
 * bytes shared with other connections stay shared. Tiny frames that waited are copied into one
 * write when the connection reads again; others go out as they are.
 */
export class OutputQueue {
  readonly #budget: MemoryBudget
  readonly #sink: OutputSink
  #waiting: (OutputFrame | Run)[] = []
  #head = 0
  readonly #handed = new Set<Handed>()
  #ready = true
  #bytes = 0
  #snapshotBytes = 0
  #released = false

  constructor(budget: MemoryBudget, sink: OutputSink) {
    this.#budget = budget
    this.#sink = sink
  }

  /** Bytes queued and not written yet, exactly. */
  get bytes(): number {
    return this.#bytes
  }

  /** The part of {@link bytes} that is snapshots of the whole state. */
  get snapshotBytes(): number {
    return this.#snapshotBytes
  }

  /** Queues one frame behind everything queued before it. */
  push(frame: OutputFrame): void {
    if (this.#released) return
    let size = 0
    // No array for a frame of one part: a change is pushed to every replica.
    if (Array.isArray(frame)) for (const part of frame) size += this.#hold(part)
    else size = this.#hold(frame as OutputPart)
    this.#bytes += size
    if (this.#ready && this.#head === this.#waiting.length) {
      this.#hand(frame)
      return
    }
    if (!Array.isArray(frame) && isShared(frame as OutputPart) && (frame as SharedBytes).change) {
      const change = frame as SharedBytes
      const tail = this.#waiting.length > this.#head ? this.#waiting[this.#waiting.length - 1] : undefined
      if (tail instanceof Run && tail.last.next === change) {
        tail.last = change
        tail.count += 1
        return
      }
      this.#waiting.push(new Run(change))
      this.#budget.charge(QueueCosts.RUN)
      return
    }
    this.#waiting.push(frame)
    this.#budget.charge(QueueCosts.WAITING)
  }

  /** The transport takes more: hands it what waits, until it says stop. */
  drain(): void {
    if (this.#released) return
    this.#ready = true
    if (this.#head === this.#waiting.length) return
    while (this.#ready && this.#head < this.#waiting.length) {
      const next = this.#take()
      const size = frameSize(next)
      if (size > BATCH_PART_BYTES || !this.#nextIsSmall()) {
        this.#hand(next)
        continue
      }
      const batch = [next]
      let total = size
      while (total < BATCH_BYTES && this.#nextIsSmall()) {
        const frame = this.#take()
        batch.push(frame)
        total += frameSize(frame)
      }
      this.#handBatch(batch, total)
    }
    // Compacts now and then, so a long-lived queue does not keep a long array's head.
    if (this.#head > 1024 && this.#head * 2 > this.#waiting.length) {
      this.#waiting = this.#waiting.slice(this.#head)
      this.#head = 0
    }
  }

  /**
   * Hands everything waiting to the transport at once, whatever it says: the connection is being
   * closed gracefully, and its peer should still get every frame queued for it.
   */
  flush(): void {
    if (this.#released || this.#head === this.#waiting.length) return
    while (this.#head < this.#waiting.length) this.#hand(this.#take())
  }

  /** Releases everything queued from the budget; later callbacks do nothing, nothing more is queued. */
  release(): void {
    if (this.#released) return
    this.#released = true
    for (let i = this.#head; i < this.#waiting.length; i++) {
      const entry = this.#waiting[i]!
      if (entry instanceof Run) {
        let change: SharedBytes | undefined = entry.first
        for (let n = 0; n < entry.count && change !== undefined; n++, change = change.next) this.#budget.drop(change)
        this.#budget.charge(-QueueCosts.RUN)
      } else {
        for (const part of partsOf(entry)) this.#unhold(part, sizeOf(part))
        this.#budget.charge(-QueueCosts.WAITING)
      }
    }
    for (const handed of this.#handed) this.#done(handed)
    this.#waiting = []
    this.#head = 0
    this.#bytes = 0
    this.#snapshotBytes = 0
  }

  /** Whether the next frame waiting is small enough to batch. */
  #nextIsSmall(): boolean {
    if (this.#head === this.#waiting.length) return false
    const entry = this.#waiting[this.#head]!
    return frameSize(entry instanceof Run ? entry.first : entry) <= BATCH_PART_BYTES
  }

  /** Takes the next frame waiting, still counted as held. */
  #take(): OutputFrame {
    const entry = this.#waiting[this.#head]!
    if (!(entry instanceof Run)) {
      this.#waiting[this.#head++] = ''
      this.#budget.charge(-QueueCosts.WAITING)
      return entry
    }
    const change = entry.first
    entry.count -= 1
    if (entry.count === 0) {
      this.#waiting[this.#head++] = ''
      this.#budget.charge(-QueueCosts.RUN)
    } else {
      entry.first = change.next!
    }
    return change
  }

  /** Counts `part` itself (shared bytes once for all connections, text for this one); returns its size. */
  #hold(part: OutputPart): number {
    if (!isShared(part)) {
      const size = Buffer.byteLength(part)
      this.#budget.charge(size + QueueCosts.CHUNK)
      return size
    }
    if (part.snapshot) this.#snapshotBytes += part.bytes.length
    this.#budget.hold(part)
    return part.bytes.length
  }

  #unhold(part: OutputPart, size: number): void {
    if (isShared(part)) this.#budget.drop(part)
    else this.#budget.charge(-(size + QueueCosts.CHUNK))
  }

  /** Hands one frame, already counted, to the transport: every part, whatever it says meanwhile. */
  #hand(frame: OutputFrame): void {
    if (!Array.isArray(frame)) {
      this.#ready = this.#handPart(frame as OutputPart)
      return
    }
    let ready = true
    for (const part of frame) ready = this.#handPart(part)
    this.#ready = ready
  }

  #handPart(part: OutputPart): boolean {
    const shared = isShared(part) ? part : undefined
    const bytes = shared === undefined ? Buffer.from(part as string, 'utf8') : shared.bytes
    return this.#send({ size: bytes.length, snapshot: shared?.snapshot ? bytes.length : 0, shared }, bytes)
  }

  /** Copies small frames into one private write of `total` bytes. */
  #handBatch(frames: readonly OutputFrame[], total: number): void {
    const batch = Buffer.allocUnsafe(total)
    let offset = 0
    let snapshot = 0
    for (const frame of frames) {
      for (const part of partsOf(frame)) {
        const size = isShared(part) ? part.bytes.length : batch.write(part, offset, 'utf8')
        if (isShared(part)) {
          batch.set(part.bytes, offset)
          if (part.snapshot) snapshot += size
        }
        offset += size
        this.#unhold(part, size)
      }
    }
    this.#budget.charge(total + QueueCosts.CHUNK)
    this.#ready = this.#send({ size: total, snapshot, shared: undefined }, batch)
  }

  /** Hands `bytes` over; returns whether the transport takes more. */
  #send(handed: Handed, bytes: Uint8Array): boolean {
    this.#handed.add(handed)
    this.#budget.charge(QueueCosts.HANDED)
    return this.#sink.write(bytes, () => {
      if (this.#released || !this.#handed.has(handed)) return
      this.#done(handed)
    })
  }

  /** `handed` is written, or will never be: releases it. */
  #done(handed: Handed): void {
    this.#handed.delete(handed)
    this.#bytes -= handed.size
    this.#snapshotBytes -= handed.snapshot
    if (handed.shared === undefined) this.#budget.charge(-(handed.size + QueueCosts.CHUNK))
    else this.#budget.drop(handed.shared)
    this.#budget.charge(-QueueCosts.HANDED)
  }
}
