import { applyPatches, type Patch } from '@ipc-state/protocol'
import { encodeActionResult } from '@ipc-state/protocol/wire'
import type { ExternalUpdate, StoredInstance } from '@ipc-state/server'

/** A store as far as the log was read: its state, version and record of answered calls. */
export interface ReplayedStore {
  state: unknown
  version: number
  instances: Map<string, StoredInstance>
}

/** What the snapshot key holds: the whole store at `version`. */
export interface StoredSnapshot {
  version: number
  storeVersion: number
  instances: StoredInstance[]
  state: unknown
}

/** The snapshot of `image`'s parts as the snapshot key holds it, the state's JSON as it is. */
export function encodeSnapshot(version: number, storeVersion: number, instances: StoredInstance[], stateJson: Uint8Array): Buffer {
  const head = `{"version":${version},"storeVersion":${storeVersion},"instances":${JSON.stringify(instances)},"state":`
  return Buffer.concat([Buffer.from(head), stateJson, Buffer.from('}')])
}

/** Where the state starts in a snapshot: no string of the instances before it holds a bare quote. */
const STATE_KEY = Buffer.from('],"state":')

/**
 * Reads a snapshot back, checked: a version and store version that are counts, instances as the
 * record keeps them, a state that is an object. A state longer than `maxStateBytes` (the server's
 * bound, see `StorageContext.maxEntryBytes`) is refused before anything parses it.
 * @throws TypeError when it is not one this storage wrote
 */
export function decodeSnapshot(bytes: Buffer, maxStateBytes = Number.POSITIVE_INFINITY): StoredSnapshot {
  const stateAt = bytes.indexOf(STATE_KEY)
  if (stateAt === -1) throw new TypeError('The snapshot in Redis is not one ipc-state wrote: it holds no state')
  const stateBytes = bytes.length - stateAt - STATE_KEY.length - 1
  if (stateBytes > maxStateBytes) {
    throw new TypeError(
      `The snapshot in Redis holds a state of ${stateBytes} bytes, more than the ${maxStateBytes} this server takes (maxStateBytes)`,
    )
  }
  let snapshot: StoredSnapshot
  try {
    snapshot = JSON.parse(bytes.toString('utf8')) as StoredSnapshot
  } catch {
    throw new TypeError('The snapshot in Redis is not one ipc-state wrote: it is not JSON')
  }
  const isCount = (value: unknown) => Number.isSafeInteger(value) && (value as number) >= 0
  const valid =
    typeof snapshot === 'object' &&
    snapshot !== null &&
    isCount(snapshot.version) &&
    isCount(snapshot.storeVersion) &&
    Array.isArray(snapshot.instances) &&
    snapshot.instances.every(isStoredInstance) &&
    typeof snapshot.state === 'object' &&
    snapshot.state !== null &&
    !Array.isArray(snapshot.state)
  if (!valid) throw new TypeError('The snapshot in Redis is not one ipc-state wrote')
  return snapshot
}

const isStoredInstance = (value: unknown): value is StoredInstance => {
  const instance = value as StoredInstance
  return (
    typeof instance === 'object' &&
    instance !== null &&
    typeof instance.instanceId === 'string' &&
    Number.isSafeInteger(instance.since) &&
    Number.isSafeInteger(instance.forgotten) &&
    Array.isArray(instance.answers) &&
    instance.answers.every((answer) => Number.isSafeInteger(answer?.id) && typeof answer.frame === 'string')
  )
}

/** A store to replay the log onto, from a snapshot. */
export function storeFrom(snapshot: Pick<StoredSnapshot, 'state' | 'version' | 'instances'>): ReplayedStore {
  return { state: snapshot.state, version: snapshot.version, instances: new Map(snapshot.instances.map((i) => [i.instanceId, i])) }
}

/**
 * Applies what the log holds after the store's version, as a server does: each change to the state
 * and its answer to the record (at most `answersKept` per instance), each instance record made.
 */
export function replay(store: ReplayedStore, updates: readonly ExternalUpdate[], answersKept: number): void {
  for (const update of updates) {
    if (update.kind === 'instance') {
      if (!store.instances.has(update.instanceId)) {
        store.instances.set(update.instanceId, { instanceId: update.instanceId, since: update.since, forgotten: -1, answers: [] })
      }
    } else if (update.kind === 'change' && update.version === store.version + 1) {
      store.state = applyPatches(store.state, JSON.parse(update.patchesJson) as Patch[])
      store.version = update.version
      const instance = store.instances.get(update.instanceId)
      if (instance === undefined) continue
      instance.answers.push({ id: update.id, frame: encodeActionResult(update.id, update.version, update.valueJson) })
      while (instance.answers.length > answersKept) {
        const dropped = instance.answers.shift()!
        instance.forgotten = Math.max(instance.forgotten, dropped.id)
      }
    }
  }
}
