// Reading a data folder back as a log: its newest snapshot and the journal records after it, each with its place in its file.
import { ErrorCode, IpcStateError } from '@ipc-state/protocol'
import { notOurFile, readDataFile } from '../../files/data-file.js'
import { type FolderFiles, journalPath, snapshotPath } from './data-folder.js'
import { type JournalRecord, PackedChange, type SegmentHeader, damaged, readSegment } from './journal-format.js'
import { readSnapshot } from './snapshot-file.js'
import { isCount } from '../stored-record.js'
import type { PresentInstance, StorageEntry, StoredInstance } from '../storage.js'

/** What a data folder holds, read back: its newest snapshot and every whole record after it. */
export interface Recovered {
  /** The snapshot's state, `undefined` while the folder holds none. */
  state: unknown
  /** At least the snapshot's state's size in bytes of JSON (see `StoredLog.stateBytes`). */
  stateBytes: number | undefined
  /** The snapshot's version (or the first segment's, when there is no snapshot). */
  version: number
  /** The epoch the store last had, `undefined` while the folder holds none. */
  epoch: string | undefined
  /** The version the last change after the snapshot made: where the next segment starts. */
  head: number
  /** The store version its state was written by. */
  storeVersion: number
  /** The snapshot's record of answered calls. */
  instances: StoredInstance[]
  /** The snapshot's client instances present. */
  present: PresentInstance[]
  /** The records after the snapshot, as entries, oldest first. */
  entries: StorageEntry[]
  /** Where each of `entries` is: the offset of its record in its file (see {@link placeOf}). */
  offsets: number[]
  /** The segments the entries are in, each with the index of its first entry, oldest first. */
  segments: { file: string; first: number }[]
  /** The newest snapshot and where its body starts, if there is one. */
  snapshot: { file: string; offset: number } | undefined
  /** The newest segment read, if any, and what it tells of how the last server stopped. */
  last: LastSegment | undefined
  /** The segments and snapshots older than the newest snapshot: nothing needs them any more. */
  obsolete: FolderFiles
}

/** The newest journal segment, as found. */
export interface LastSegment {
  seq: number
  /** Its header, `undefined` when a crash left it without one (it then held nothing). */
  header: SegmentHeader | undefined
  /** Where its whole records end. */
  end: number
  /** The offset of a record cut short at its end, if one was. */
  torn: number | undefined
  /** Whether its last record says the server closed cleanly. */
  closed: boolean
}

/**
 * Reads the newest snapshot of `dir` and the journal segments from it on, each record checked for
 * its fields and its place (versions one after the other, segments without a gap). Only the newest
 * segment may end in a torn record (reported, never cut here). The server replays what it returns.
 * @throws IpcStateError `STORE_DAMAGED` naming the file and the offset, whatever the damage;
 *   `STORE_TOO_NEW`
 */
export async function readFolder(dir: string, files: FolderFiles, storeVersion: number): Promise<Recovered> {
  const snapshotSeq = files.snapshots.at(-1)
  const recovered: Recovered = {
    state: undefined,
    stateBytes: undefined,
    version: 0,
    head: 0,
    epoch: undefined,
    storeVersion,
    instances: [],
    present: [],
    entries: [],
    offsets: [],
    segments: [],
    snapshot: undefined,
    last: undefined,
    obsolete: {
      journals: files.journals.filter((seq) => snapshotSeq !== undefined && seq < snapshotSeq),
      snapshots: files.snapshots.slice(0, -1),
    },
  }
  if (snapshotSeq !== undefined) {
    const path = snapshotPath(dir, snapshotSeq)
    const snapshot = await asDamage(
      path,
      () => 0,
      () => readSnapshot(path),
    )
    tooNew(path, snapshot.storeVersion, storeVersion)
    Object.assign(recovered, { state: snapshot.state, version: snapshot.version, epoch: snapshot.epoch })
    recovered.stateBytes = snapshot.bodyBytes
    recovered.storeVersion = snapshot.storeVersion
    recovered.instances = snapshot.instances
    recovered.present = snapshot.present ?? []
    recovered.snapshot = { file: path, offset: snapshot.bodyAt }
  }
  let version = recovered.version
  const segments = files.journals.filter((seq) => snapshotSeq === undefined || seq >= snapshotSeq)
  for (const [index, seq] of segments.entries()) {
    const path = journalPath(dir, seq)
    if (index > 0 && seq !== segments[index - 1]! + 1) throw damaged(path, 0, `the segment before it (${seq - 1}) is missing`)
    recovered.segments.push({ file: path, first: recovered.entries.length })
    let header: JournalRecord | undefined
    let lastKind: string | undefined
    let at = 0
    const bytes = await asDamage(
      path,
      () => 0,
      () => readDataFile(path),
    )
    const read = await asDamage(
      path,
      () => at,
      async () =>
        readSegment(path, bytes, (record, offset) => {
          at = offset
          lastKind = record.t
          if (header === undefined) {
            header = record
            if (record.t !== 'segment' || record.seq !== seq) throw damaged(path, offset, 'its first record is not its header')
            if (!isHeader(record)) throw damaged(path, offset, 'its header lacks a field, or one is not what it must be')
            tooNew(path, record.storeVersion, storeVersion)
            if (recovered.state !== undefined && record.version !== version) {
              throw damaged(path, offset, `it starts at version ${record.version}, not at ${version} where the store is`)
            }
            if (recovered.state !== undefined && record.storeVersion !== recovered.storeVersion) {
              throw damaged(path, offset, `it says store version ${record.storeVersion}, its snapshot ${recovered.storeVersion}`)
            }
            recovered.epoch = record.epoch
            recovered.storeVersion = record.storeVersion
            if (recovered.state === undefined) recovered.version = version = record.version
            return
          }
          if (record instanceof PackedChange) {
            // The usual record, checked without making anything for it.
            const problem = packedProblem(record, version, recovered.state !== undefined)
            if (problem !== undefined) throw damaged(path, offset, problem)
            version++
            recovered.entries.push(record)
            recovered.offsets.push(offset)
            return
          }
          const entry = entryOf(record, version, recovered.state !== undefined, (what) => {
            throw damaged(path, offset, what)
          })
          if (entry === undefined) return
          if (entry.kind === 'change') version = entry.version
          recovered.entries.push(entry)
          recovered.offsets.push(offset)
        }),
    )
    const newest = index === segments.length - 1
    if (read.torn !== undefined && !newest) throw damaged(path, read.torn, 'a record is cut short, and later segments follow')
    if (header === undefined && !newest) throw damaged(path, 0, 'it holds no header, and later segments follow')
    if (newest) {
      // A segment a crash left without its header (even with its whole magic) never held a change:
      // it is cut off whole, like a torn record.
      const torn = header === undefined ? (read.torn ?? 0) : read.torn
      recovered.last = { seq, header: header as SegmentHeader | undefined, end: read.end, torn, closed: lastKind === 'closed' }
    }
  }
  recovered.head = version
  return recovered
}

/**
 * What is wrong with packed change `record` after `version`, if anything. Its patches, result and
 * mark are checked by the server's replay, as they are parsed there.
 */
function packedProblem(record: PackedChange, version: number, hasState: boolean): string | undefined {
  if (record.version !== version + 1) return `a change makes version ${record.version} where ${version + 1} comes next`
  if (!isCount(record.id)) return 'a change lacks the instance or the id of its call'
  return hasState ? undefined : 'a change comes before any snapshot of the state it changes'
}

/** Where entry `index` of `recovered` is: its file and the offset of its record. */
export function placeOf({ segments, offsets }: Recovered, index: number): { file: string; offset: number } {
  let segment = segments.length - 1
  while (segment > 0 && segments[segment]!.first > index) segment--
  return { file: segments[segment]!.file, offset: offsets[index]! }
}

/** The entry one record after the header holds (none for a `closed` mark); `fail` throws the damage at its place. */
function entryOf(
  record: Exclude<JournalRecord, PackedChange>,
  version: number,
  hasState: boolean,
  fail: (what: string) => never,
): StorageEntry | undefined {
  switch (record.t) {
    case 'instance':
      if (typeof record.i !== 'string' || !Number.isSafeInteger(record.s)) fail('a client record lacks its instance or hello id')
      return { kind: 'instance', instanceId: record.i, since: record.s }
    case 'change': {
      if (record.v !== version + 1) fail(`a change makes version ${record.v} where ${version + 1} comes next`)
      if (!Array.isArray(record.p)) fail('a change holds no patches')
      if (typeof record.i !== 'string' || !isCount(record.n)) fail('a change lacks the instance or the id of its call')
      if (!hasState) fail('a change comes before any snapshot of the state it changes')
      const valueJson = Object.hasOwn(record, 'r') ? JSON.stringify(record.r) : undefined
      const change: StorageEntry = {
        kind: 'change',
        version: record.v,
        patchesJson: JSON.stringify(record.p),
        instanceId: record.i,
        id: record.n,
        valueJson,
      }
      // A join's or a leave's mark, checked by the server's replay like the patches are.
      if (Object.hasOwn(record, 'm')) change.presenceJson = JSON.stringify(record.m)
      return change
    }
    case 'closed':
      return undefined
    default:
      return fail(`a record of kind ${JSON.stringify((record as { t: unknown }).t)} this version does not know`)
  }
}

/** Whether `record` has every field of a segment header, each of its kind. */
function isHeader(record: JournalRecord): record is SegmentHeader {
  const header = record as SegmentHeader
  return (
    isCount(header.version) &&
    typeof header.epoch === 'string' &&
    isCount(header.storeVersion) &&
    header.storeVersion >= 1 &&
    typeof header.boot === 'string' &&
    typeof header.fsync === 'string'
  )
}

/**
 * Runs `read` on file `path`, turning whatever it throws into `STORE_DAMAGED` at `offset()`: a
 * file that is a link or no regular file, one too large to read, or a field of an unexpected kind
 * that slipped through. Errors of the system (EACCES, EIO, EMFILE) are not damage and pass as they are.
 */
async function asDamage<T>(path: string, offset: () => number, read: () => Promise<T>): Promise<T> {
  try {
    return await read()
  } catch (error) {
    if (error instanceof IpcStateError) throw error
    if (notOurFile(error)) throw damaged(path, 0, 'it is a symbolic link or not a regular file, which no server writes')
    if ((error as NodeJS.ErrnoException).syscall !== undefined) throw error
    throw damaged(path, offset(), `it could not be read: ${(error as Error).message}`)
  }
}

/** Refuses a file written by a newer store version than the server runs. */
function tooNew(path: string, written: number, running: number): void {
  if (written <= running) return
  throw new IpcStateError(
    ErrorCode.STORE_TOO_NEW,
    `${path} was written by version ${written} of the store, and this server runs version ${running}: ` +
      'run the newer store, or restore a folder an older version wrote',
    { data: { file: path, written, running } },
  )
}
