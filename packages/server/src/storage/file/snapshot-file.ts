// Snapshot files of a data folder: the whole store, written atomically, read back checked.
import { randomBytes } from 'node:crypto'
import { open, rename, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { crc32 } from 'node:zlib'
import { CREATE_FLAGS, FOLDER_FLAGS, readDataFile } from '../../files/data-file.js'
import { damaged } from './journal-format.js'
import { isCount, readPresent, readStoredInstances } from '../stored-record.js'
import type { PresentInstance, StoredInstance } from '../storage.js'

// A snapshot file holds the whole store at the start of one journal segment:
//   ipcss001 <CRC-32 of the body, 8 hex digits> <body bytes>\n<body>
// and the body is the JSON {"version","epoch","storeVersion","instances","state"}. It is written
// under a temporary name, flushed to disk, renamed into place and its folder flushed, so a crash
// leaves either the whole file or none. The temporary name is `.<name>.<pid>.<random>.tmp`: one a
// kill left behind is removed at the next start (see TEMPORARY).

const SNAPSHOT_MAGIC = 'ipcss001'

/** The temporary file a snapshot is written to before it is renamed into place. */
export const TEMPORARY = /^\.snapshot-\d{12}\.json\.\d+(\.[0-9a-f]+)?\.tmp$/

/** What a snapshot holds besides the state. */
export interface SnapshotMeta {
  version: number
  epoch: string
  storeVersion: number
  instances: StoredInstance[]
  /** The client instances present; absent from a snapshot taken while none was. */
  present?: PresentInstance[]
}

/** A snapshot as read back: its meta and the state. */
export interface ReadSnapshot extends SnapshotMeta {
  state: unknown
  /** Where its body starts in the file: the place damage found in its state is reported at. */
  bodyAt: number
  /** The bytes of its body, its state's JSON and a little more: at least the state's size in bytes of JSON. */
  bodyBytes: number
}

/** Flushes folder `dir`, so a file created, renamed or removed in it stays so after a crash. */
export async function syncFolder(dir: string): Promise<void> {
  const handle = await open(dir, FOLDER_FLAGS)
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/**
 * Writes `path` atomically: `meta` and the state's JSON `stateJson`, to a temporary file that is
 * flushed, renamed into place, and its folder flushed. The temporary file is removed on failure.
 */
export async function writeSnapshot(path: string, meta: SnapshotMeta, stateJson: Uint8Array): Promise<void> {
  const head = Buffer.from(
    `{"version":${meta.version},"epoch":${JSON.stringify(meta.epoch)},"storeVersion":${meta.storeVersion},` +
      `"instances":${JSON.stringify(meta.instances)},` +
      (meta.present === undefined || meta.present.length === 0 ? '' : `"present":${JSON.stringify(meta.present)},`) +
      '"state":',
  )
  const tail = Buffer.from('}')
  const bodyBytes = head.length + stateJson.length + tail.length
  const checksum = crc32(tail, crc32(stateJson, crc32(head)))
  const first = Buffer.from(`${SNAPSHOT_MAGIC} ${checksum.toString(16).padStart(8, '0')} ${bodyBytes}\n`)
  // A fresh name, created only if nothing (not even a link planted there) has it: the snapshot is
  // never written through a link into another file.
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`)
  const handle = await open(temporary, CREATE_FLAGS, 0o600)
  try {
    try {
      for (const part of [first, head, stateJson, tail]) {
        let written = 0
        while (written < part.length) written += (await handle.write(part, written)).bytesWritten
      }
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temporary, path)
  } catch (error) {
    await unlink(temporary).catch(() => undefined)
    throw error
  }
  await syncFolder(dirname(path))
}

/**
 * Reads the snapshot at `path`. Answers an earlier version kept as frames are read as values.
 * @throws IpcStateError `STORE_DAMAGED` naming the file and the offset when it does not check out
 */
export async function readSnapshot(path: string): Promise<ReadSnapshot> {
  const bytes = await readDataFile(path)
  const newline = bytes.indexOf(10)
  const [magic, checksum, size] = bytes
    .subarray(0, newline === -1 ? 0 : newline)
    .toString('latin1')
    .split(' ')
  if (magic !== SNAPSHOT_MAGIC) throw damaged(path, 0, 'it is not an ipc-state snapshot of a format this version knows (ipcss001)')
  const body = bytes.subarray(newline + 1)
  if (Number(size) !== body.length) throw damaged(path, newline + 1, `its body is ${body.length} bytes, not the ${size} it says`)
  if (crc32(body) !== Number.parseInt(checksum ?? '', 16)) throw damaged(path, newline + 1, 'its body does not match its checksum')
  let snapshot: Omit<ReadSnapshot, 'bodyAt' | 'bodyBytes'>
  try {
    snapshot = JSON.parse(body.toString('utf8')) as typeof snapshot
  } catch {
    throw damaged(path, newline + 1, 'its body is not JSON')
  }
  const { version, epoch, storeVersion, state } = snapshot ?? {}
  const instances = readStoredInstances(snapshot?.instances)
  const present = readPresent(snapshot?.present)
  if (
    !isCount(version) ||
    typeof epoch !== 'string' ||
    !isCount(storeVersion) ||
    storeVersion < 1 ||
    instances === undefined ||
    present === undefined ||
    typeof state !== 'object' ||
    state === null
  ) {
    throw damaged(
      path,
      newline + 1,
      'its body lacks the version, epoch, store version, record or state, or one is not what it must be',
    )
  }
  return { version, epoch, storeVersion, instances, present, state, bodyAt: newline + 1, bodyBytes: body.length }
}
