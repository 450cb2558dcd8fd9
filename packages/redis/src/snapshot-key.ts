// The snapshot key of a store in Redis: the whole store at one version, written as JSON and read back checked.
import { type PresentInstance, type StoredInstance, readPresent, readStoredInstances } from '@ipc-state/server'

/** What the snapshot key holds: the whole store at `version`. */
export interface StoredSnapshot {
  version: number
  storeVersion: number
  instances: StoredInstance[]
  /** The client instances present; absent from a snapshot taken while none was. */
  present: PresentInstance[]
  state: unknown
}

/** The snapshot of `image`'s parts as the snapshot key holds it, the state's JSON as it is. */
export function encodeSnapshot(
  version: number,
  storeVersion: number,
  instances: StoredInstance[],
  stateJson: Uint8Array,
  present: readonly PresentInstance[] = [],
): Buffer {
  // `present` is a list too, so the state still follows `],"state":`.
  const presentJson = present.length === 0 ? '' : `,"present":${JSON.stringify(present)}`
  const head = `{"version":${version},"storeVersion":${storeVersion},"instances":${JSON.stringify(instances)}${presentJson},"state":`
  return Buffer.concat([Buffer.from(head), stateJson, Buffer.from('}')])
}

/** Where the state starts in a snapshot: no string of the instances (or instances present) before it holds a bare quote. */
const STATE_KEY = Buffer.from('],"state":')

/**
 * Reads a snapshot back, checked: a version and store version that are counts, instances as the
 * record keeps them (answers an earlier version kept as frames read as values), a state that is an
 * object. A state longer than `maxStateBytes` (the server's bound, see
 * `StorageContext.maxEntryBytes`) is refused before anything parses it.
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
  const instances = typeof snapshot === 'object' && snapshot !== null ? readStoredInstances(snapshot.instances) : undefined
  const present = typeof snapshot === 'object' && snapshot !== null ? readPresent(snapshot.present) : undefined
  const valid =
    instances !== undefined &&
    present !== undefined &&
    isCount(snapshot.version) &&
    isCount(snapshot.storeVersion) &&
    typeof snapshot.state === 'object' &&
    snapshot.state !== null &&
    !Array.isArray(snapshot.state)
  if (!valid) throw new TypeError('The snapshot in Redis is not one ipc-state wrote')
  return { version: snapshot.version, storeVersion: snapshot.storeVersion, instances, present, state: snapshot.state }
}
