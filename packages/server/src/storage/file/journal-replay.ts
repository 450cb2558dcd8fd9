import { patchInPlace } from './patch-in-place.js'
import { ErrorCode, IpcStateError, type Patch } from '@ipc-state/protocol'
import { encodeActionResult } from '@ipc-state/protocol/wire'
import { notOurFile, readDataFile } from '../../files/data-file.js'
import { type FolderFiles, journalPath, snapshotPath } from './data-folder.js'
import { type JournalRecord, type SegmentHeader, damaged, readSegment } from './journal-format.js'
import { isCount, readSnapshot } from './snapshot-file.js'
import { keyProblem, stateProblem } from './stored-shape.js'
import type { StoredInstance } from '../storage.js'

/** What a data folder holds, read back: the store at its last whole record. */
export interface Recovered {
  /** The state, `undefined` while the folder holds none. */
  state: unknown
  version: number
  /** The epoch the store last had, `undefined` while the folder holds none. */
  epoch: string | undefined
  /** The store version its state was written by. */
  storeVersion: number
  instances: StoredInstance[]
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
 * Reads the newest snapshot of `dir` and the journal segments from it on, replaying each change.
 * Only the newest segment may end in a torn record (reported, never cut here). A state of the
 * running `storeVersion` must keep the shape of the store's `initialState` (see `stateProblem`).
 * @throws IpcStateError `STORE_DAMAGED` naming the file and the offset, whatever the damage;
 *   `STORE_TOO_NEW`
 */
export async function replay(
  dir: string,
  files: FolderFiles,
  storeVersion: number,
  answersKept: number,
  initialState: Record<string, unknown>,
): Promise<Recovered> {
  const snapshotSeq = files.snapshots.at(-1)
  const recovered: Recovered = {
    state: undefined,
    version: 0,
    epoch: undefined,
    storeVersion,
    instances: [],
    last: undefined,
    obsolete: {
      journals: files.journals.filter((seq) => snapshotSeq !== undefined && seq < snapshotSeq),
      snapshots: files.snapshots.slice(0, -1),
    },
  }
  const instances = new Map<string, ReplayedInstance>()
  if (snapshotSeq !== undefined) {
    const path = snapshotPath(dir, snapshotSeq)
    const snapshot = await asDamage(
      path,
      () => 0,
      () => readSnapshot(path, (state, written) => (written === storeVersion ? stateProblem(state, initialState) : undefined)),
    )
    tooNew(path, snapshot.storeVersion, storeVersion)
    Object.assign(recovered, { state: snapshot.state, version: snapshot.version, epoch: snapshot.epoch })
    recovered.storeVersion = snapshot.storeVersion
    for (const { answers, ...instance } of snapshot.instances) {
      instances.set(instance.instanceId, {
        ...instance,
        answers: answers.map(({ id, frame }) => ({ id, version: 0, valueJson: undefined, frame })),
      })
    }
  }
  const segments = files.journals.filter((seq) => snapshotSeq === undefined || seq >= snapshotSeq)
  for (const [index, seq] of segments.entries()) {
    const path = journalPath(dir, seq)
    if (index > 0 && seq !== segments[index - 1]! + 1) throw damaged(path, 0, `the segment before it (${seq - 1}) is missing`)
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
            if (recovered.state !== undefined && record.version !== recovered.version) {
              throw damaged(path, offset, `it starts at version ${record.version}, not at ${recovered.version} where the store is`)
            }
            recovered.epoch = record.epoch
            recovered.storeVersion = record.storeVersion
            recovered.version = record.version
            return
          }
          applyRecord(recovered, instances, record, answersKept, (what) => {
            throw damaged(path, offset, what)
          })
          if (record.t === 'change' && recovered.storeVersion === storeVersion) {
            const problem = changedShape(recovered.state, record.p as Patch[], initialState)
            if (problem !== undefined) throw damaged(path, offset, `a change leaves the state unlike the store's: ${problem}`)
          }
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
  recovered.instances = [...instances.values()].map(({ answers, ...instance }) => ({
    ...instance,
    answers: answers.map(({ id, version, valueJson, frame }) => ({
      id,
      frame: frame ?? encodeActionResult(id, version, valueJson),
    })),
  }))
  return recovered
}

/** An answer as replay keeps it: its frame from a snapshot, or what makes it from the journal. */
interface ReplayedAnswer {
  id: number
  version: number
  valueJson: string | undefined
  frame?: string
}

type ReplayedInstance = Omit<StoredInstance, 'answers'> & { answers: ReplayedAnswer[] }

/**
 * Applies one record after the header; `fail` throws the damage at its place. Each instance keeps
 * about its last `answersKept` answers (the record keeps no more), the older ones noted as
 * forgotten, as answering them did.
 */
function applyRecord(
  recovered: Recovered,
  instances: Map<string, ReplayedInstance>,
  record: JournalRecord,
  answersKept: number,
  fail: (what: string) => never,
): void {
  switch (record.t) {
    case 'instance': {
      if (typeof record.i !== 'string' || !Number.isSafeInteger(record.s)) fail('a client record lacks its instance or hello id')
      // A record made by a new hello replaces one that was forgotten in between.
      if (instances.get(record.i)?.since !== record.s)
        instances.set(record.i, { instanceId: record.i, since: record.s, forgotten: -1, answers: [] })
      return
    }
    case 'change': {
      if (record.v !== recovered.version + 1) fail(`a change makes version ${record.v} where ${recovered.version + 1} comes next`)
      if (!Array.isArray(record.p)) fail('a change holds no patches')
      if (typeof record.i !== 'string' || !isCount(record.n)) fail('a change lacks the instance or the id of its call')
      if (recovered.state === undefined) fail('a change comes before any snapshot of the state it changes')
      try {
        recovered.state = patchInPlace(recovered.state, record.p as Patch[])
      } catch (error) {
        fail(`a change does not fit the state: ${(error as Error).message}`)
      }
      recovered.version = record.v
      let instance = instances.get(record.i)
      if (instance === undefined) {
        // Its hello's record was compacted away with its answers: calls before this one are unknown.
        instance = { instanceId: record.i, since: record.n, forgotten: -1, answers: [] }
        instances.set(record.i, instance)
      }
      instance.answers.push({
        id: record.n,
        version: record.v,
        valueJson: Object.hasOwn(record, 'r') ? JSON.stringify(record.r) : undefined,
      })
      if (instance.answers.length >= 2 * answersKept) {
        const dropped = instance.answers.splice(0, instance.answers.length - answersKept)
        instance.forgotten = Math.max(instance.forgotten, ...dropped.map((answer) => answer.id))
      }
      return
    }
    case 'closed':
      return
    default:
      fail(`a record of kind ${JSON.stringify((record as { t: unknown }).t)} this version does not know`)
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
 * What a change's `patches` made unlike the store's shape, if anything: only a patch that replaces
 * the root or one of its keys can change a top-level kind, so only those are checked.
 */
function changedShape(state: unknown, patches: readonly Patch[], initial: Record<string, unknown>): string | undefined {
  for (const { path } of patches) {
    if (path.length === 0) return stateProblem(state, initial)
    if (path.length === 1) {
      const problem = keyProblem(state as Record<string, unknown>, initial, String(path[0]))
      if (problem !== undefined) return problem
    }
  }
  return undefined
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
