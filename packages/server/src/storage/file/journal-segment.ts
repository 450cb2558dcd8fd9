// One journal segment being written: appended to at its end only, flushed now or a little later, cut back after a failed write.
import { writeSync } from 'node:fs'
import { type FileHandle, open, unlink } from 'node:fs/promises'
import { dirname } from 'node:path'
import { CREATE_FLAGS } from '../../files/data-file.js'
import { bootId, journalPath } from './data-folder.js'
import { JOURNAL_MAGIC, type SegmentHeader, frameRecord } from './journal-format.js'
import { syncFolder } from './snapshot-file.js'

/**
 * One journal segment being written: appended to at its end only, so that what it holds is always
 * its first {@link size} bytes; a write that failed part-way is cut off again with {@link truncate}.
 */
export class JournalSegment {
  readonly path: string
  readonly seq: number
  readonly #handle: FileHandle
  /** The bytes of whole records written so far. */
  size: number
  /** The bytes a flush made durable: what a failed {@link flush} cuts the segment back to. */
  #durable: number
  /** The flush under way, and the one queued behind it for the bytes appended since it began. */
  #flushing: Promise<void> | undefined
  #nextFlush: Promise<void> | undefined
  /** Why the last {@link flush} failed, until {@link truncate} cut off what it may not have kept. */
  failed: Error | undefined
  /** The flush {@link syncLater} set up, until it runs. */
  #flushTimer: NodeJS.Timeout | undefined

  private constructor(path: string, seq: number, handle: FileHandle, size: number) {
    this.path = path
    this.seq = seq
    this.#handle = handle
    this.size = size
    this.#durable = size
  }

  /** Creates segment `seq` in the data folder `dir` (see {@link create}), its header naming this boot. */
  static start(
    dir: string,
    { seq, version, epoch, storeVersion, fsync }: Omit<SegmentHeader, 't' | 'boot'>,
  ): Promise<JournalSegment> {
    return JournalSegment.create(journalPath(dir, seq), { t: 'segment', seq, version, epoch, storeVersion, boot: bootId(), fsync })
  }

  /**
   * Creates the segment at `path` with its magic and `header`, flushes it and its folder, so the
   * segment exists, whole, before anything is written to it; removed again when that fails.
   */
  static async create(path: string, header: SegmentHeader): Promise<JournalSegment> {
    const handle = await open(path, CREATE_FLAGS, 0o600)
    const segment = new JournalSegment(path, header.seq, handle, 0)
    try {
      await segment.append(Buffer.concat([JOURNAL_MAGIC, frameRecord(JSON.stringify(header))]))
      await handle.datasync()
      segment.#durable = segment.size
      await syncFolder(dirname(path))
    } catch (error) {
      // Created here, exclusively, and incomplete: nothing else may hold its name, or a retry
      // would fail on it for ever.
      await handle.close().catch(() => undefined)
      await unlink(path).catch(() => undefined)
      throw error
    }
    return segment
  }

  /** Writes `bytes` at the end, all of them; on failure {@link size} still ends the whole records. */
  async append(bytes: Uint8Array): Promise<void> {
    let written = 0
    while (written < bytes.length) {
      const { bytesWritten } = await this.#handle.write(bytes, written, bytes.length - written, this.size + written)
      written += bytesWritten
    }
    this.size += bytes.length
  }

  /**
   * {@link append} without leaving the event loop: a write to the page cache takes microseconds,
   * less than handing it to a thread and back, and the writes of successive batches stay in the
   * order they were called in.
   */
  appendNow(bytes: Uint8Array): void {
    let written = 0
    while (written < bytes.length) {
      written += writeSync(this.#handle.fd, bytes, written, bytes.length - written, this.size + written)
    }
    this.size += bytes.length
  }

  /**
   * Makes everything appended so far durable, in a thread, while the event loop appends the next
   * batches: resolves once a flush that began after this call is done. A flush under way began
   * before the latest bytes, so one more follows it, for every batch appended meanwhile (group
   * commit: one flush for all of them). When a flush fails, so does the one queued behind it, and
   * {@link failed} says why until {@link truncate} cut the segment back to what was durable.
   */
  flush(): Promise<void> {
    if (this.#flushing === undefined) return this.#startFlush()
    if (this.#nextFlush === undefined) {
      const next = this.#flushing.then(
        () => {
          this.#nextFlush = undefined
          return this.#startFlush()
        },
        (error: Error) => {
          this.#nextFlush = undefined
          throw error
        },
      )
      this.#nextFlush = next
    }
    return this.#nextFlush
  }

  #startFlush(): Promise<void> {
    const end = this.size
    const flushing = this.#handle.datasync().then(
      () => {
        this.#durable = Math.max(this.#durable, end)
        if (this.#flushing === flushing) this.#flushing = undefined
      },
      (error: Error) => {
        // Set before anything else runs: no batch may be appended after bytes the disk may not hold.
        this.failed ??= error
        if (this.#flushing === flushing) this.#flushing = undefined
        throw error
      },
    )
    this.#flushing = flushing
    return flushing
  }

  /** Flushes the file's data to the disk. */
  sync(): Promise<void> {
    return this.#handle.datasync()
  }

  /** Flushes the file `ms` after the first call since its last such flush; `failed` hears when that does not work. */
  syncLater(ms: number, failed: (error: Error) => void): void {
    if (this.#flushTimer !== undefined) return
    this.#flushTimer = setTimeout(() => {
      this.#flushTimer = undefined
      this.sync().catch(failed)
    }, ms)
    this.#flushTimer.unref()
  }

  /**
   * Cuts off whatever a failed write left after {@link size}, and flushes that; after a failed
   * {@link flush}, whatever came after the bytes earlier flushes made durable.
   */
  async truncate(): Promise<void> {
    if (this.failed !== undefined) this.size = this.#durable
    await this.#handle.truncate(this.size)
    await this.#handle.datasync()
    this.#durable = this.size
    this.failed = undefined
  }

  close(): Promise<void> {
    clearTimeout(this.#flushTimer)
    return this.#handle.close()
  }
}
