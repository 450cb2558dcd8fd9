// Room on the disk for a data folder's next snapshot: the reserve kept for it, the looks at the room left, and when a snapshot is due.
import { lstat, statfs } from 'node:fs/promises'
import type { Logger } from '@ipc-state/protocol'
import { listFolder, snapshotPath } from './data-folder.js'
import type { DiskReserve } from './disk-reserve.js'
import { type SnapshotMeta, writeSnapshot } from './snapshot-file.js'
import { removeFiles } from './start-up-recovery.js'

/** How long a storage whose snapshot failed waits before it tries another, in milliseconds. */
const SNAPSHOT_RETRY_MS = 5_000
/** Journal bytes between two looks at the room left on the disk. */
const ROOM_CHECK_BYTES = 16 * 1024
/** Room kept free beyond what a snapshot and the journal may need. */
const ROOM_MARGIN_BYTES = 64 * 1024

/**
 * Keeps room for the next snapshot of a data folder (the reserve, as large as the last snapshot),
 * and says when a snapshot is due: past `compactBytes` of journal, or once the disk runs so low
 * that the journal would soon leave no room to fold it.
 */
export class SnapshotRoom {
  readonly #dir: string
  readonly #reserve: DiskReserve
  readonly #logger: Logger
  /** The reserve being written after a snapshot, if it is. */
  #reserving: Promise<void> | undefined
  /** When the last snapshot failed (performance.now()). */
  #failedAt = Number.NEGATIVE_INFINITY
  /** The size of the last snapshot written or read. */
  #snapshotBytes = 0
  /** Journal bytes written since the disk's room was last looked at. */
  #sinceCheck = 0
  /** The disk has too little room left for the journal to grow: a snapshot is due now. */
  #low = false

  constructor(dir: string, reserve: DiskReserve, logger: Logger) {
    this.#dir = dir
    this.#reserve = reserve
    this.#logger = logger
  }

  /** Keeps room for a snapshot of `bytes`, the size of the one the folder holds. */
  async keepFor(bytes: number): Promise<void> {
    this.#snapshotBytes = bytes
    await this.#reserve.ensure(bytes)
  }

  /** Whether the next write takes a snapshot first, `sinceSnapshot` journal bytes after the last one. */
  due(sinceSnapshot: number, compactBytes: number): boolean {
    return (sinceSnapshot >= compactBytes || this.#low) && performance.now() - this.#failedAt >= SNAPSHOT_RETRY_MS
  }

  /** A snapshot began: the disk is not low on room for it any more. */
  began(): void {
    this.#low = false
  }

  /** A snapshot failed: the next is tried no sooner than {@link SNAPSHOT_RETRY_MS} later. */
  failed(): void {
    this.#failedAt = performance.now()
  }

  /** Frees the reserve, so the snapshot about to be written takes its room. */
  async free(): Promise<void> {
    await this.#reserving
    await this.#reserve.release()
  }

  /**
   * Writes the snapshot of segment `seq` in the room the reserve kept, then removes the older
   * files it makes obsolete, and keeps room for the next one.
   */
  async snapshot(seq: number, meta: SnapshotMeta, stateJson: Uint8Array): Promise<void> {
    const path = snapshotPath(this.#dir, seq)
    await this.free()
    try {
      await writeSnapshot(path, meta, stateJson)
    } catch (error) {
      this.failed()
      throw error
    }
    const files = await listFolder(this.#dir)
    await removeFiles(this.#dir, {
      journals: files.journals.filter((n) => n < seq),
      snapshots: files.snapshots.filter((n) => n < seq),
    })
    await this.#written(path)
  }

  /** The snapshot at `path` was written: room is kept for the next one, of its size, in the background. */
  async #written(path: string): Promise<void> {
    const written = await lstat(path).catch(() => undefined)
    this.#snapshotBytes = written?.size ?? this.#snapshotBytes
    // Kept after the snapshot is done, so that a compaction is not held up by it.
    if (written !== undefined) this.#reserving = this.#keep(written.size)
  }

  /** Resolves once the reserve being written, if any, is. */
  async settled(): Promise<void> {
    await this.#reserving
  }

  /**
   * `bytes` more journal were written, `sinceSnapshot` in all since the last snapshot: now and then
   * looks, in the background, at the room left on the disk. Once it is less than a snapshot and the
   * journal since the last one may need (each journal byte grows the state or the record of answers
   * by about one byte), a snapshot is due, while it still fits, instead of letting the journal fill
   * the disk.
   */
  wrote(bytes: number, sinceSnapshot: number): void {
    this.#sinceCheck += bytes
    if (this.#sinceCheck < ROOM_CHECK_BYTES) return
    this.#sinceCheck = 0
    statfs(this.#dir).then(
      ({ bavail, bsize }) => {
        // The reserve is freed for the snapshot; a journal of a quarter of it at least makes one worth it.
        const room = bavail * bsize + this.#reserve.size
        const need = 2 * (this.#snapshotBytes + sinceSnapshot) + ROOM_MARGIN_BYTES
        const worth = Math.max(ROOM_CHECK_BYTES, this.#snapshotBytes / 4)
        this.#low = sinceSnapshot >= worth && room < need
        // Room for a snapshot again (someone freed some): no need to wait before trying one.
        if (room >= this.#snapshotBytes + sinceSnapshot + ROOM_MARGIN_BYTES) this.#failedAt = Number.NEGATIVE_INFINITY
      },
      () => undefined,
    )
  }

  /** Makes the reserve hold `bytes`, or says why it cannot. */
  async #keep(bytes: number): Promise<void> {
    if (await this.#reserve.ensure(bytes)) return
    this.#logger.warn?.('no room to keep for the next snapshot: a journal that fills the disk waits for room', {
      file: this.#reserve.path,
      bytes,
    })
  }
}
