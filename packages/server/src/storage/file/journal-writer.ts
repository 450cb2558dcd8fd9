// Writing a data folder: journal segments appended to, snapshots taken and the older files removed, room kept on the disk.
import { unlink } from 'node:fs/promises'
import type { Logger } from '@ipc-state/protocol'
import { journalPath } from './data-folder.js'
import type { FileStorageSettings, FsyncMode } from './file-storage-options.js'
import type { DiskReserve } from './disk-reserve.js'
import { SnapshotRoom } from './snapshot-room.js'
import { frameEntry, frameRecord, persistFailed } from './journal-format.js'
import { JournalSegment } from './journal-segment.js'
import { RETRY_MS, SegmentFaults, noSpace } from './segment-faults.js'
import type { StorageEntry, StoreImage } from '../storage.js'

/** Writes under way at once while the journal is sound: each appends while the earlier ones flush. */
export const WRITES_AT_ONCE = 8

/** Where a {@link JournalWriter} starts: the segment it makes, and the snapshot to write before it, if one is needed. */
export interface NextSegment {
  seq: number
  version: number
  image: StoreImage | undefined
}

/** What a {@link JournalWriter} writes with. */
export interface JournalWriterOptions {
  dir: string
  fsync: FsyncMode
  limits: Pick<FileStorageSettings, 'fsyncInterval' | 'compactBytes'>
  logger: Logger
  /** The store as the server has it now (see `StorageContext.image`). */
  image(): StoreImage
}

/**
 * The writing side of a file storage, once its folder was read: appends each batch of entries to
 * the journal segment, and after `compactBytes` of journal (or when the disk runs low) starts a new
 * segment and writes a snapshot of the store in the background, after which the older files go.
 */
export class JournalWriter {
  readonly #options: JournalWriterOptions
  /** The segment written to; unset until there was room to start it. */
  #segment: JournalSegment | undefined
  /** The segment this run starts, and the snapshot to write before it, if one is needed. */
  #next: NextSegment
  /** The store's identity and store version, written in each segment's header and snapshot. */
  #epoch: string
  #storeVersion: number
  /** Journal bytes written since the last snapshot began. */
  #sinceSnapshot: number
  /** The snapshot being written in the background, if one is. */
  #snapshotting: Promise<void> | undefined
  readonly #faults = new SegmentFaults()
  /** Room for the next snapshot, and when one is due. */
  readonly #room: SnapshotRoom
  /** When the last snapshot to make room on a full disk failed (performance.now()). */
  #roomFailedAt = Number.NEGATIVE_INFINITY
  /** Whether the next write comes alone, as the last {@link writesAtOnce} said (unset: nobody asked), and the writes under way. */
  #alone: boolean | undefined
  #writes = 0

  /**
   * @param sinceSnapshot journal bytes the folder holds after its newest snapshot (at least
   *   `compactBytes` to have the first write take a snapshot)
   */
  constructor(
    options: JournalWriterOptions,
    reserve: DiskReserve,
    start: { next: NextSegment; epoch: string; storeVersion: number; sinceSnapshot: number },
  ) {
    this.#options = options
    this.#room = new SnapshotRoom(options.dir, reserve, options.logger)
    this.#next = start.next
    this.#epoch = start.epoch
    this.#storeVersion = start.storeVersion
    this.#sinceSnapshot = start.sinceSnapshot
  }

  /**
   * Starts the first segment (after its snapshot, if one is due), and keeps room for a snapshot
   * of `snapshotBytes`. A full disk is logged, not thrown: the stored state is served, and calls
   * get PERSIST_FAILED until there is room.
   */
  async start(snapshotBytes: number): Promise<void> {
    try {
      await this.#startSegment()
      if (this.#next.image === undefined && snapshotBytes > 0) await this.#room.keepFor(snapshotBytes)
    } catch (error) {
      const why = 'started without room to write to the data folder: reads are served, calls fail until it has room'
      this.#options.logger.error?.(why, { dir: this.#options.dir, error: (error as Error).message })
    }
  }

  /** Starts over at `image`, the migrated store of `storeVersion`: a new segment after a snapshot of it. */
  async restartAt(image: StoreImage, storeVersion: number): Promise<void> {
    const seq = this.#segment === undefined ? this.#next.seq : this.#segment.seq + 1
    await this.#segment?.close().catch(() => undefined)
    this.#segment = undefined
    this.#faults.broken = undefined
    this.#storeVersion = storeVersion
    this.#sinceSnapshot = 0
    this.#next = { seq, version: image.version, image }
    await this.start(0)
  }

  /**
   * How many writes may be under way at once (see `Storage.writesAtOnce`): one while the next write
   * has to start a segment, repair one, or take a snapshot, and after a failure until a write works.
   */
  writesAtOnce(): number {
    this.#alone =
      this.#segment === undefined ||
      this.#faults.faulty ||
      (this.#snapshotting === undefined && this.#room.due(this.#sinceSnapshot, this.#options.limits.compactBytes))
    return this.#alone ? 1 : WRITES_AT_ONCE
  }

  /** Appends `entries` (see `Storage.write`), and in `always` mode resolves once a flush holds them. */
  async write(entries: readonly StorageEntry[]): Promise<void> {
    const alone = this.#alone ?? this.#writes === 0
    this.#alone = undefined
    this.#writes++
    try {
      await this.#write(entries, alone)
      if (alone) this.#faults.recovering = false
    } finally {
      this.#writes--
    }
  }

  async #write(entries: readonly StorageEntry[], alone: boolean): Promise<void> {
    if (this.#faults.behind(this.#segment)) {
      // Behind a write that failed: made on top of it, so it fails too, having written nothing.
      const failure = this.#faults.failed(this.#segment!, this.#segment!.failed ?? new Error('an earlier write failed'))
      if (!alone) throw await failure
      await failure
    }
    if (this.#segment === undefined) await this.#startSegment()
    else if (this.#faults.broken !== undefined) await this.#faults.repair(this.#segment)
    if (alone && this.#snapshotting === undefined && this.#room.due(this.#sinceSnapshot, this.#options.limits.compactBytes)) {
      await this.#rotate().catch((error: Error) => {
        // The old segment takes the writes meanwhile; a snapshot is tried again later.
        this.#room.failed()
        if (this.#sinceSnapshot >= this.#options.limits.compactBytes) this.#sinceSnapshot = this.#options.limits.compactBytes / 2
        this.#options.logger.warn?.('could not start a new journal segment', { error: error.message })
      })
    }
    const segment = this.#segment!
    const bytes = Buffer.concat(entries.map(frameEntry))
    try {
      segment.appendNow(bytes)
    } catch (error) {
      // Folding the journal into a snapshot takes the state every earlier write made: only alone.
      if (!alone || !noSpace(error) || !(await this.#compactForRoom()))
        throw await this.#faults.failed(this.#segment!, error as NodeJS.ErrnoException)
      // The journal was folded into a snapshot and removed: the disk has room again.
      try {
        this.#segment!.appendNow(bytes)
      } catch (again) {
        throw await this.#faults.failed(this.#segment!, again as NodeJS.ErrnoException)
      }
    }
    this.#sinceSnapshot += bytes.length
    this.#room.wrote(bytes.length, this.#sinceSnapshot)
    if (this.#options.fsync === 'always') {
      try {
        await this.#segment!.flush()
      } catch (error) {
        throw await this.#faults.failed(this.#segment!, error as NodeJS.ErrnoException)
      }
    } else if (this.#options.fsync === 'interval') {
      this.#segment!.syncLater(this.#options.limits.fsyncInterval, (error) => {
        // What was answered may not be on the disk: a snapshot rewrites all of it.
        this.#sinceSnapshot = this.#options.limits.compactBytes
        this.#options.logger.error?.('could not flush the journal to the disk; a snapshot will rewrite it', {
          error: error.message,
        })
      })
    }
  }

  async close(): Promise<void> {
    await this.#snapshotting
    await this.#room.settled()
    const segment = this.#segment
    if (segment !== undefined && this.#faults.broken === undefined) {
      try {
        await segment.append(frameRecord('{"t":"closed"}'))
        await segment.sync()
      } catch (error) {
        this.#options.logger.warn?.('could not mark the journal closed', { file: segment.path, error: (error as Error).message })
      }
    }
    await this.release()
  }

  /** Closes the segment without marking it closed. */
  async release(): Promise<void> {
    await this.#segment?.close().catch(() => undefined)
    this.#segment = undefined
  }

  /**
   * Starts the segment this run writes to, after the snapshot it needs, if any; tried again, at most
   * once a second, by the writes that come while there is no room for it.
   * @throws IpcStateError `PERSIST_FAILED`
   */
  async #startSegment(): Promise<void> {
    const next = this.#next!
    const path = journalPath(this.#options.dir, next.seq)
    this.#faults.retryAt(path)
    try {
      if (next.image !== undefined) {
        await this.#snapshot(next.seq, next.image)
        next.image = undefined
      }
      this.#segment = await this.#createSegment(next.seq, next.version)
      this.#faults.broken = undefined
    } catch (error) {
      // What a failed attempt created is incomplete, and this run's alone.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') await unlink(path).catch(() => undefined)
      this.#faults.brokeAt(error as Error)
      throw persistFailed(path, error as NodeJS.ErrnoException)
    }
  }

  #createSegment(seq: number, version: number): Promise<JournalSegment> {
    const { dir, fsync } = this.#options
    return JournalSegment.start(dir, { seq, version, epoch: this.#epoch, storeVersion: this.#storeVersion, fsync })
  }

  /**
   * Starts a new segment at the store as it is now, and writes its snapshot in the background;
   * once that is on disk, the older segments and snapshots go.
   */
  async #rotate(): Promise<void> {
    const image = this.#options.image()
    const old = this.#segment!
    // Everything in the old segment is on disk before a newer one exists: a crash cannot leave a
    // gap between them.
    if (this.#options.fsync !== 'always') await old.sync().catch(() => undefined)
    const segment = await this.#createSegment(old.seq + 1, image.version)
    this.#segment = segment
    await old.close().catch(() => undefined)
    const written = this.#sinceSnapshot
    this.#sinceSnapshot = 0
    this.#room.began()
    this.#snapshotting = this.#snapshot(segment.seq, image)
      .catch((error: Error) => {
        this.#sinceSnapshot += written
        this.#options.logger.warn?.('could not write a snapshot; the journal is kept, and a snapshot tried again later', {
          error: error.message,
        })
      })
      .finally(() => {
        this.#snapshotting = undefined
      })
  }

  /** Writes the snapshot of segment `seq` (see `SnapshotRoom.snapshot`). */
  #snapshot(seq: number, image: StoreImage): Promise<void> {
    const { version, instances, present } = image
    const meta = { version, epoch: this.#epoch, storeVersion: this.#storeVersion, instances, ...(present && { present }) }
    return this.#room.snapshot(seq, meta, image.stateJson)
  }

  /**
   * The journal filled the disk: folds it into a snapshot, in the room the reserve kept (or any
   * that was freed since), and removes it; or waits for the snapshot under way to do so. Tried
   * again at most once a second after it failed, and only with a journal to fold.
   * @returns whether it did, so the write that failed can be tried again
   */
  async #compactForRoom(): Promise<boolean> {
    const segment = this.#segment!
    try {
      await segment.truncate()
    } catch {
      return false
    }
    // A snapshot under way frees the older journal once it is written: the write may fit then.
    if (this.#snapshotting !== undefined) {
      await this.#snapshotting
      return true
    }
    if (this.#sinceSnapshot === 0 || performance.now() - this.#roomFailedAt < RETRY_MS) return false
    try {
      await this.#room.free()
      await this.#rotate()
      await this.#snapshotting
    } catch {
      this.#roomFailedAt = performance.now()
      return false
    }
    if (this.#sinceSnapshot !== 0) {
      this.#roomFailedAt = performance.now()
      return false
    }
    this.#options.logger.warn?.('the journal filled the disk: folded it into a snapshot to make room', { dir: this.#options.dir })
    return true
  }
}
