// Room kept on the disk for the next snapshot: a journal that fills the disk can always be folded
// into a snapshot, which frees the journal, instead of waiting for room that nobody frees.
import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { lstat, open, statfs, unlink } from 'node:fs/promises'
import { dirname } from 'node:path'

/** Opens the reserve to rewrite it, never through a link planted at its name. */
const REWRITE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | (constants.O_NOFOLLOW ?? 0)
const CHUNK = 64 * 1024
/** Room a reserve never takes: the journal's, until the next snapshot. */
const MARGIN = 64 * 1024

/**
 * A file (`store.reserve`) as large as the last snapshot. Released just before a snapshot is
 * written, and written again after, at the new snapshot's size, when the disk has room for all of
 * it and some more (a reserve that would take the last bytes the journal needs is not kept).
 */
export class DiskReserve {
  readonly path: string
  /** The bytes it holds now; 0 while there is none. */
  #size = 0

  constructor(path: string) {
    this.path = path
  }

  /** The bytes it holds now. */
  get size(): number {
    return this.#size
  }

  /** Takes the size of a reserve a previous run left. */
  async load(): Promise<void> {
    const stats = await lstat(this.path).catch(() => undefined)
    this.#size = stats?.isFile() ? stats.size : 0
  }

  /** Frees its room for a snapshot. */
  async release(): Promise<void> {
    await unlink(this.path).catch(() => undefined)
    this.#size = 0
  }

  /**
   * Makes it hold about `bytes`: kept as it is between `bytes` and twice that, else rewritten with
   * bytes that no file system compresses away, and flushed.
   * @returns whether it now holds at least `bytes`
   */
  async ensure(bytes: number): Promise<boolean> {
    if (this.#size >= bytes && this.#size <= 2 * bytes + CHUNK) return true
    let handle
    try {
      const { bavail, bsize } = await statfs(dirname(this.path))
      if (bavail * bsize + this.#size < bytes + MARGIN) {
        await this.release()
        return false
      }
      handle = await open(this.path, REWRITE_FLAGS, 0o600)
      for (let written = 0; written < bytes; ) {
        const chunk = randomBytes(Math.min(CHUNK, bytes - written))
        written += (await handle.write(chunk, 0, chunk.length, written)).bytesWritten
      }
      await handle.datasync()
      await handle.close()
      this.#size = bytes
      return true
    } catch {
      await handle?.close().catch(() => undefined)
      await this.release()
      return false
    }
  }
}
