// One journal segment being written: appended to at its end only, flushed now or a little later, cut back after a failed write.
import { fdatasyncSync, writeSync } from 'node:fs'
import { type FileHandle, open, unlink } from 'node:fs/promises'
import { dirname } from 'node:path'
import { CREATE_FLAGS } from '../../files/data-file.js'
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
  /** The flush {@link syncLater} set up, until it runs. */
  #flushTimer: NodeJS.Timeout | undefined

  private constructor(path: string, seq: number, handle: FileHandle, size: number) {
    this.path = path
    this.seq = seq
    this.#handle = handle
    this.size = size
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
   * {@link append} and, when `flush`, {@link sync}, without leaving the event loop: a write to the
   * page cache takes microseconds, less than handing it to a thread and back, and a flush blocks
   * only what would wait for it anyway (the calls it makes durable), as Redis's own does.
   */
  appendNow(bytes: Uint8Array, flush: boolean): void {
    let written = 0
    while (written < bytes.length) {
      written += writeSync(this.#handle.fd, bytes, written, bytes.length - written, this.size + written)
    }
    if (flush) fdatasyncSync(this.#handle.fd)
    this.size += bytes.length
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

  /** Cuts off whatever a failed write left after {@link size}, and flushes that. */
  async truncate(): Promise<void> {
    await this.#handle.truncate(this.size)
    await this.#handle.datasync()
  }

  close(): Promise<void> {
    clearTimeout(this.#flushTimer)
    return this.#handle.close()
  }
}
