// Writing a data folder: journal segments appended to, snapshots taken and the older files removed, room kept on the disk.
import { unlink } from 'node:fs/promises'
import type { IpcStateError, Logger } from '@ipc-state/protocol'
import { bootId, journalPath } from './data-folder.js'
import type { FileStorageSettings, FsyncMode } from './file-storage-options.js'
import type { DiskReserve } from './disk-reserve.js'
import { SnapshotRoom } from './snapshot-room.js'
import { frameEntry, frameRecord, persistFailed } from './journal-format.js'
import { JournalSegment } from './journal-segment.js'
import type { StorageEntry, StoreImage } from '../storage.js'

/** How long a storage that failed waits before it tries to write again, in milliseconds. */
const RETRY_MS = 1_000

const noSpace = (error: unknown): boolean => ['ENOSPC', 'EDQUOT'].includes((error as NodeJS.ErrnoException).code ?? '')

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
  /** Why the segment may hold bytes past its whole records, until a write cuts them off. */
  #broken: { error: Error; since: number } | undefined
  /** Room for the next snapshot, and when one is due. */
  readonly #room: SnapshotRoom
  /** When the last snapshot to make room on a full disk failed (performance.now()). */
  #roomFailedAt = Number.NEGATIVE_INFINITY

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
      this.#options.logger.error?.(
        'started without room to write to the data folder: reads are served, calls fail until it has room',
        {
          dir: this.#options.dir,
          error: (error as Error).message,
        },
      )
    }
  }

  /** Starts over at `image`, the migrated store of `storeVersion`: a new segment after a snapshot of it. */
  async restartAt(image: StoreImage, storeVersion: number): Promise<void> {
    const seq = this.#segment === undefined ? this.#next.seq : this.#segment.seq + 1
    await this.#segment?.close().catch(() => undefined)
    this.#segment = undefined
    this.#broken = undefined
    this.#storeVersion = storeVersion
    this.#sinceSnapshot = 0
    this.#next = { seq, version: image.version, image }
    await this.start(0)
  }

  /** Appends `entries` (see `Storage.write`). */
  async write(entries: readonly StorageEntry[]): Promise<void> {
    if (this.#segment === undefined) await this.#startSegment()
    else if (this.#broken !== undefined) await this.#repair()
    if (this.#snapshotting === undefined && this.#room.due(this.#sinceSnapshot, this.#options.limits.compactBytes)) {
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
      segment.appendNow(bytes, this.#options.fsync === 'always')
    } catch (error) {
      if (!noSpace(error) || !(await this.#compactForRoom())) throw await this.#failed(error as NodeJS.ErrnoException)
      // The journal was folded into a snapshot and removed: the disk has room again.
      try {
        this.#segment!.appendNow(bytes, this.#options.fsync === 'always')
      } catch (again) {
        throw await this.#failed(again as NodeJS.ErrnoException)
      }
    }
    this.#sinceSnapshot += bytes.length
    this.#room.wrote(bytes.length, this.#sinceSnapshot)
    if (this.#options.fsync === 'interval') {
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
    if (segment !== undefined && this.#broken === undefined) {
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
    const broken = this.#broken
    if (broken !== undefined && performance.now() - broken.since < RETRY_MS) throw persistFailed(path, broken.error)
    try {
      if (next.image !== undefined) {
        await this.#snapshot(next.seq, next.image)
        next.image = undefined
      }
      this.#segment = await this.#createSegment(next.seq, next.version)
      this.#broken = undefined
    } catch (error) {
      // What a failed attempt created is incomplete, and this run's alone.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') await unlink(path).catch(() => undefined)
      this.#broken = { error: error as Error, since: performance.now() }
      throw persistFailed(path, error as NodeJS.ErrnoException)
    }
  }

  #createSegment(seq: number, version: number): Promise<JournalSegment> {
    const { dir, fsync } = this.#options
    const header = {
      t: 'segment',
      seq,
      version,
      epoch: this.#epoch,
      storeVersion: this.#storeVersion,
      boot: bootId(),
      fsync,
    } as const
    return JournalSegment.create(journalPath(dir, seq), header)
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

  /** A write failed: cuts off what it left, so the next write follows whole records. */
  async #failed(cause: NodeJS.ErrnoException): Promise<IpcStateError> {
    const segment = this.#segment!
    try {
      await segment.truncate()
    } catch {
      this.#broken = { error: cause, since: performance.now() }
    }
    return persistFailed(segment.path, cause)
  }

  /** Tries again, at most once a second, to cut off what a failed write left. */
  async #repair(): Promise<void> {
    const broken = this.#broken!
    const segment = this.#segment!
    if (performance.now() - broken.since < RETRY_MS) throw persistFailed(segment.path, broken.error)
    try {
      await segment.truncate()
      this.#broken = undefined
    } catch (error) {
      this.#broken = { error: error as Error, since: performance.now() }
      throw persistFailed(segment.path, error as NodeJS.ErrnoException)
    }
  }
}
