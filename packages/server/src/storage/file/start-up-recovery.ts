// What a starting file storage does with the folder it read: cut off a torn tail, keep or renew the epoch, remove what is obsolete.
import { lstat, open, readdir, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '@ipc-state/protocol'
import { WRITE_FLAGS } from '../../files/data-file.js'
import { bootId, type FolderFiles, journalPath, snapshotPath } from './data-folder.js'
import type { Recovered } from './folder-log.js'
import { TEMPORARY, syncFolder } from './snapshot-file.js'

/**
 * A crash in the middle of a write left part of a record at the end: it was never acknowledged.
 * A segment left without its header is removed whole, and taken out of `files`.
 */
export async function cutTornTail(dir: string, { last }: Recovered, files: FolderFiles, logger: Logger): Promise<void> {
  if (last?.torn === undefined) return
  const path = journalPath(dir, last.seq)
  const size = (await lstat(path)).size
  if (last.header === undefined) {
    await unlink(path)
    files.journals = files.journals.filter((seq) => seq !== last.seq)
  } else {
    // Through a descriptor opened without following links: replay read a regular file there.
    const handle = await open(path, WRITE_FLAGS)
    try {
      await handle.truncate(last.end)
    } finally {
      await handle.close()
    }
  }
  await syncFolder(dir)
  logger.warn?.('cut off a record left incomplete by a crash at the end of the journal', {
    file: path,
    offset: last.torn,
    droppedBytes: size - last.end,
  })
}

/**
 * Whether clients may keep their epoch: yes unless acknowledged changes may be gone, which takes
 * a machine that restarted under a server that neither closed cleanly nor flushed each change.
 */
export function keepsEpoch({ epoch, last }: Recovered, logger: Logger): boolean {
  if (epoch === undefined) return false
  const header = last?.header
  if (
    last === undefined ||
    last.closed ||
    header?.fsync === 'always' ||
    (header !== undefined && header.boot !== '' && header.boot === bootId())
  ) {
    return true
  }
  logger.warn?.(
    'the last server stopped without closing, in a mode that flushes later, and the machine may have restarted since: ' +
      'changes it acknowledged last may be lost, so clients start over from the stored state',
    { fsync: header?.fsync },
  )
  return false
}

/** The journal bytes the folder holds after its newest snapshot. */
export async function journalBytes(dir: string, files: FolderFiles, recovered: Recovered): Promise<number> {
  let bytes = 0
  for (const seq of files.journals) {
    if (recovered.obsolete.journals.includes(seq)) continue
    bytes += (await lstat(journalPath(dir, seq)).catch(() => ({ size: 0 }))).size
  }
  return bytes
}

/**
 * Removes the temporary files of snapshots that a kill cut short: only the server that owns the
 * folder writes them, and it runs no other. Returns how many there were.
 */
export async function removeTemporaries(dir: string, logger: Logger): Promise<number> {
  const names = (await readdir(dir)).filter((name) => TEMPORARY.test(name))
  for (const name of names) await unlink(join(dir, name)).catch(() => undefined)
  if (names.length > 0) {
    await syncFolder(dir)
    logger.warn?.('removed the temporary files of snapshots a stop cut short', { dir, files: names.length })
  }
  return names.length
}

/** Removes `files` from `dir`, and flushes the folder so they stay removed. */
export async function removeFiles(dir: string, files: FolderFiles): Promise<void> {
  if (files.journals.length === 0 && files.snapshots.length === 0) return
  for (const seq of files.journals) await unlink(journalPath(dir, seq)).catch(() => undefined)
  for (const seq of files.snapshots) await unlink(snapshotPath(dir, seq)).catch(() => undefined)
  await syncFolder(dir)
}
