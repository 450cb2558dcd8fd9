// Replay of what a storage handed back into the state, its version and the record of answered calls, checked entry by entry.
import { ErrorCode, IpcStateError, type Patch } from '@ipc-state/protocol'
import { lengthGrowth } from '../state/state-size.js'
import { patchInPlace } from './patch-in-place.js'
import { parsePatchesText } from './patches-text.js'
import type { PresentInstance, StorageEntry, StoredInstance, StoredLog } from './storage.js'
import { readPresenceMark, readPresent } from './stored-record.js'
import { keyProblem, stateProblem } from './stored-shape.js'

/** The store a log replays to. */
export interface ReplayedStore {
  state: Record<string, unknown>
  version: number
  /** The store version its state has: the snapshot's, or that of the last migration in the log. */
  storeVersion: number
  /** The record of answered calls, at most `answersKept` answers per instance. */
  instances: StoredInstance[]
  /** The client instances present: the snapshot's, with the joins and leaves after it. */
  present: PresentInstance[]
  /**
   * At least the state's size in bytes of JSON, when the log said its snapshot's (see
   * {@link StoredLog.stateBytes}): that, and each change's patches. The state is then the log's own.
   */
  stateBytes?: number
}

/** What replay checks the log against. */
export interface ReplayOptions {
  /** Answers kept per client instance (`dedupWindow`); older ones are noted as forgotten. */
  answersKept: number
  /** The store version the server runs: a state of it must keep the shape of `initialState`. */
  storeVersion: number
  initialState: Record<string, unknown>
}

/**
 * Applies `log`'s entries to its snapshot, in order, as the server applied them when it wrote them:
 * each change to the state (it must make the next version, and fit), its answer to the record,
 * each instance record made. A state of the running store version keeps the store's shape (see
 * `stateProblem`). The snapshot's state is changed in place: a storage hands back one of its own.
 * @throws IpcStateError `STORE_DAMAGED` where the log says (see {@link StoredLog.damaged});
 *   `STORE_TOO_NEW` for a store a newer store version wrote
 */
export function replayLog(log: StoredLog, { answersKept, storeVersion, initialState }: ReplayOptions): ReplayedStore {
  const fail = (at: number | 'snapshot', what: string): never => {
    throw log.damaged?.(at, what) ?? damagedLog(at, what)
  }
  let current = log.storeVersion
  tooNew(current, storeVersion)
  if (!Number.isSafeInteger(log.version) || log.version < 0) fail('snapshot', `its version ${log.version} is not a count`)
  const snapshotProblem = current === storeVersion ? stateProblem(log.state, initialState) : plainObject(log.state)
  if (snapshotProblem !== undefined) fail('snapshot', snapshotProblem)
  let state = log.state as Record<string, unknown>
  let version = log.version
  // A state grows by at most the bytes of each change's patches (see StateSize).
  let stateBytes = log.stateBytes
  const instances = new Map<string, StoredInstance>()
  for (const instance of log.instances) instances.set(instance.instanceId, { ...instance, answers: [...instance.answers] })
  const snapshotPresent = readPresent(log.present)
  if (snapshotPresent === undefined) fail('snapshot', 'its list of client instances present is not one a server writes')
  const present = new Map(snapshotPresent!.map((instance) => [instance.instanceId, instance]))
  const { entries } = log
  for (let index = 0; index < entries.length; index++) {
    const entry = entries[index]!
    if (entry.kind === 'instance') {
      // A record made by a new hello replaces one that was forgotten in between.
      if (instances.get(entry.instanceId)?.since !== entry.since) {
        instances.set(entry.instanceId, { instanceId: entry.instanceId, since: entry.since, forgotten: -1, answers: [] })
      }
      continue
    }
    if (entry.kind !== 'change')
      fail(index, `an entry of kind ${JSON.stringify((entry as { kind: unknown }).kind)} no server writes`)
    if (entry.version !== version + 1) fail(index, `a change makes version ${entry.version} where ${version + 1} comes next`)
    if (entry.storeVersion !== undefined) {
      tooNew(entry.storeVersion, storeVersion)
      current = entry.storeVersion
    }
    const patches = parsePatches(entry)
    if (typeof patches === 'string') return fail(index, patches)
    try {
      state = patchInPlace(state, patches) as Record<string, unknown>
    } catch (error) {
      fail(index, `a change does not fit the state: ${(error as Error).message}`)
    }
    const problem = current === storeVersion ? changedShape(state, patches, initialState) : plainObject(state)
    if (problem !== undefined) fail(index, `a change leaves the state unlike the store's: ${problem}`)
    if (stateBytes !== undefined) stateBytes += patchesBytes(entry) + lengthGrowth(patches)
    version = entry.version
    if (entry.presenceJson !== undefined) {
      const mark = readPresenceMark(entry.presenceJson)
      if (mark === undefined) fail(index, 'a change holds a mark of a join or a leave that no server writes')
      if ('joined' in mark!) present.set(mark.joined.instanceId, mark.joined)
      else present.delete(mark!.left)
    }
    if (entry.instanceId === '') continue
    let instance = instances.get(entry.instanceId)
    if (instance === undefined) {
      // Its hello's record was compacted away with its answers: calls before this one are unknown.
      instance = { instanceId: entry.instanceId, since: entry.id, forgotten: -1, answers: [] }
      instances.set(entry.instanceId, instance)
    }
    // The entry stands for its answer (it has the id, version and result) until the end: most are
    // dropped again, unread, and only the ones kept are made answers of their own.
    instance.answers.push(entry)
    if (instance.answers.length >= 2 * answersKept) trim(instance, answersKept)
  }
  for (const instance of instances.values()) {
    trim(instance, answersKept)
    instance.answers = instance.answers.map(({ id, version, valueJson }) => {
      if (valueJson === undefined) return { id, version }
      // Only the answers kept are ever sent again: those are checked, not every one the log holds.
      if (!isJson(valueJson)) fail(answerAt(log, instance.instanceId, id), 'a change holds a result that is not JSON')
      return { id, version, valueJson }
    })
  }
  const replayed: ReplayedStore = {
    state,
    version,
    storeVersion: current,
    instances: [...instances.values()],
    present: [...present.values()],
  }
  if (stateBytes !== undefined) replayed.stateBytes = stateBytes
  return replayed
}

/** Whether `text` is JSON. */
function isJson(text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

/** Where the answer to call `id` of `instanceId` is in `log`: its newest change of that call, or the snapshot. */
function answerAt(log: StoredLog, instanceId: string, id: number): number | 'snapshot' {
  for (let index = log.entries.length - 1; index >= 0; index--) {
    const entry = log.entries[index]!
    if (entry.kind === 'change' && entry.instanceId === instanceId && entry.id === id) return index
  }
  return 'snapshot'
}

/** Drops all but the last `kept` answers of `instance`, noting the newest dropped as forgotten. */
function trim(instance: StoredInstance, kept: number): void {
  if (instance.answers.length <= kept) return
  const dropped = instance.answers.splice(0, instance.answers.length - kept)
  instance.forgotten = Math.max(instance.forgotten, ...dropped.map((answer) => answer.id))
}

type ChangeEntry = Extract<StorageEntry, { kind: 'change' }>

/**
 * A change entry that reads its own patches, as JSON.parse would read its `patchesJson`, and knows
 * their bytes: the file storage's packed change, which need not make their text for it.
 */
interface ReadsPatches {
  readPatches(): unknown
  patchesBytes: number
}

const readsPatches = (entry: ChangeEntry): entry is ChangeEntry & ReadsPatches =>
  typeof (entry as Partial<ReadsPatches>).readPatches === 'function'

/** The bytes of a change's patches' JSON. */
const patchesBytes = (entry: ChangeEntry): number =>
  readsPatches(entry) ? entry.patchesBytes : Buffer.byteLength(entry.patchesJson)

/** A change's patches, parsed: a list, or what is wrong with them. */
function parsePatches(entry: ChangeEntry): Patch[] | string {
  let patches: unknown
  try {
    patches = readsPatches(entry) ? entry.readPatches() : parsePatchesText(entry.patchesJson)
  } catch {
    return 'a change holds patches that are not JSON'
  }
  return Array.isArray(patches) ? (patches as Patch[]) : 'a change holds no patches'
}

/** Why `state` is no plain object, if it is not. */
function plainObject(state: unknown): string | undefined {
  return typeof state === 'object' && state !== null && !Array.isArray(state) ? undefined : 'its state is not an object'
}

/**
 * What a change's patches made unlike the store's shape, if anything: only a patch that replaces
 * the root or one of its keys can change a top-level kind, so only those are checked.
 */
function changedShape(state: unknown, patches: readonly Patch[], initial: Record<string, unknown>): string | undefined {
  const problem = plainObject(state)
  if (problem !== undefined) return problem
  for (const { path } of patches) {
    if (path.length === 0) return stateProblem(state, initial)
    if (path.length === 1) {
      const found = keyProblem(state as Record<string, unknown>, initial, String(path[0]))
      if (found !== undefined) return found
    }
  }
  return undefined
}

/** `STORE_DAMAGED` for a storage that names no place. */
function damagedLog(at: number | 'snapshot', what: string): IpcStateError {
  const where = at === 'snapshot' ? 'its snapshot' : `entry ${at} after its snapshot`
  return new IpcStateError(ErrorCode.STORE_DAMAGED, `The storage holds what no server wrote, in ${where}: ${what}`, {
    data: { entry: at },
  })
}

/** Refuses a store a newer store version than the server's wrote. */
function tooNew(written: number, running: number): void {
  if (written <= running) return
  throw new IpcStateError(
    ErrorCode.STORE_TOO_NEW,
    `The storage holds a store written by version ${written} of the store, and this server runs version ${running}: run the newer store`,
    { data: { written, running } },
  )
}
