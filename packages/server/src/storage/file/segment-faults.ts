// What failed writes left in a data folder's journal: the cut back to whole records, once for all the writes a failure fails, retried at most once a second.
import type { IpcStateError } from '@ipc-state/protocol'
import { persistFailed } from './journal-format.js'
import type { JournalSegment } from './journal-segment.js'

/** How long a storage that failed waits before it tries to write again, in milliseconds. */
export const RETRY_MS = 1_000

/** Whether a write failed for want of room on the disk. */
export const noSpace = (error: unknown): boolean => ['ENOSPC', 'EDQUOT'].includes((error as NodeJS.ErrnoException).code ?? '')

/**
 * The faults of a journal writer: whether the segment may hold bytes past its whole records (or
 * could not be started), the cut under way after a failed write or flush, and whether writes go
 * one at a time until one works again.
 */
export class SegmentFaults {
  /** Why the segment may hold bytes past its whole records (or could not start), until a write cuts them off. */
  broken: { error: Error; since: number } | undefined
  /** Set by a failure, until a write that came alone works: writes come one at a time meanwhile. */
  recovering = false
  /** The cut after a failed write or flush, while it runs. */
  #cutting: Promise<void> | undefined

  /** Whether a write may not go on now: the segment is broken, or being cut back. */
  get faulty(): boolean {
    return this.broken !== undefined || this.#cutting !== undefined || this.recovering
  }

  /** Whether a failure is being cut off, or was not yet: a write called now comes behind it. */
  behind(segment: JournalSegment | undefined): boolean {
    return this.#cutting !== undefined || segment?.failed !== undefined
  }

  /** Something failed to start a segment: the next try waits {@link RETRY_MS}. */
  brokeAt(error: Error): void {
    this.broken = { error, since: performance.now() }
  }

  /** @throws IpcStateError `PERSIST_FAILED` when the last failure at `path` is less than {@link RETRY_MS} old */
  retryAt(path: string): void {
    const broken = this.broken
    if (broken !== undefined && performance.now() - broken.since < RETRY_MS) throw persistFailed(path, broken.error)
  }

  /**
   * A write or a flush failed: cuts off what it left, once for all the writes it fails, so the next
   * write follows whole records.
   */
  async failed(segment: JournalSegment, cause: NodeJS.ErrnoException): Promise<IpcStateError> {
    this.recovering = true
    if (this.#cutting === undefined) {
      const cutting = segment
        .truncate()
        .catch(() => this.brokeAt(cause))
        .finally(() => {
          if (this.#cutting === cutting) this.#cutting = undefined
        })
      this.#cutting = cutting
    }
    await this.#cutting
    return persistFailed(segment.path, cause)
  }

  /** Tries again, at most once a second, to cut off what a failed write left. */
  async repair(segment: JournalSegment): Promise<void> {
    this.retryAt(segment.path)
    try {
      await segment.truncate()
      this.broken = undefined
    } catch (error) {
      this.brokeAt(error as Error)
      throw persistFailed(segment.path, error as NodeJS.ErrnoException)
    }
  }
}
