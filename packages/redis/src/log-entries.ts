// The log of a store in Redis: stream entries and their ids, written as the commit script takes them and read back checked.
import type { StorageEntry } from '@ipc-state/server'

/**
 * A place in the log: after the change that made `version` and the `seq` instance records that
 * followed it. Its stream id is `<version>-<seq>`.
 */
export interface LogPosition {
  version: number
  seq: number
}

/** The stream id of `position`. */
export const streamId = ({ version, seq }: LogPosition): string => `${version}-${seq}`

/** One entry of the log as the stream gives it: its id and its fields, name then value. */
export type StreamEntry = [id: string, fields: string[]]

/** The arguments the commit script takes for `entries` (see scripts.ts). */
export function encodeEntries(entries: readonly StorageEntry[]): string[] {
  const args: string[] = []
  for (const entry of entries) {
    if (entry.kind === 'instance') {
      args.push('i', entry.instanceId, String(entry.since), '', '', '0', '', '', '')
    } else {
      const { instanceId, id, patchesJson, valueJson, action, clientId, presenceJson } = entry
      args.push(
        'c',
        instanceId,
        String(id),
        patchesJson,
        valueJson ?? '',
        valueJson === undefined ? '0' : '1',
        action ?? '',
        clientId ?? '',
        presenceJson ?? '',
      )
    }
  }
  return args
}

/** Where `id` (`<version>-<seq>`) is in the log. */
export function positionOf(id: string): LogPosition {
  const dash = id.indexOf('-')
  return { version: Number(id.slice(0, dash)), seq: Number(id.slice(dash + 1)) }
}

/** Whether the entry at `next` comes right after `position`: a hole means the log lost entries. */
export const follows = (position: LogPosition, next: LogPosition): boolean =>
  (next.version === position.version && next.seq === position.seq + 1) || (next.version === position.version + 1 && next.seq === 0)

/** Whether `a` is after `b`. */
export const isAfter = (a: LogPosition, b: LogPosition): boolean =>
  a.version > b.version || (a.version === b.version && a.seq > b.seq)

const CHANGE_FIELDS = new Set(['t', 'i', 'n', 'p', 'v', 'h', 'a', 'k', 's', 'm'])
const INSTANCE_FIELDS = new Set(['t', 'i', 'n'])
const ID = /^(0|[1-9][0-9]{0,15})-(0|[1-9][0-9]{0,15})$/

/**
 * The update one stream entry holds, checked field by field: an entry another program added to the
 * log (a different id, a field too many or too few, a number that is not one) is refused, never
 * guessed at.
 * @throws TypeError when the entry is not one this storage wrote
 */
export function decodeEntry(entry: StreamEntry): StorageEntry {
  return readEntry(entry).update
}

/** A log entry read back: its update, and for a migration the store version it migrated to. */
export interface ReadEntry {
  update: StorageEntry
  /** Set on the change a migration wrote: the store version the state has from it on. */
  storeVersion?: number
}

/**
 * {@link decodeEntry}, with the store version a migration entry carries. A field longer than
 * `maxBytes` (the server's bound on one change, see `StorageContext.maxEntryBytes`) is refused
 * before anything parses it: a change never carries more than the whole state.
 * @throws TypeError when the entry is not one this storage wrote
 */
export function readEntry([id, fields]: StreamEntry, maxBytes = Number.POSITIVE_INFINITY): ReadEntry {
  const refuse = (why: string): never => {
    throw new TypeError(`The log entry ${String(id).slice(0, 40)} is not one ipc-state wrote: ${why}`)
  }
  if (typeof id !== 'string' || !ID.test(id)) refuse('its id is not <version>-<n>')
  const position = positionOf(id)
  if (!Number.isSafeInteger(position.version) || !Number.isSafeInteger(position.seq)) refuse('its id is out of range')
  if (!Array.isArray(fields) || fields.length % 2 !== 0) refuse('its fields are not pairs')
  const field = new Map<string, string>()
  for (let i = 0; i < fields.length; i += 2) {
    const name = fields[i]
    const value = fields[i + 1]
    if (typeof name !== 'string' || typeof value !== 'string' || field.has(name)) refuse('a field is repeated or not text')
    // A character takes at least one byte: a value longer in characters is longer in bytes too.
    if (value!.length > maxBytes) {
      refuse(
        `its field ${JSON.stringify(name!.slice(0, 20))} is longer than the ${maxBytes} bytes one change may take here (maxStateBytes)`,
      )
    }
    field.set(name!, value!)
  }
  const kind = field.get('t')
  const known = kind === 'c' ? CHANGE_FIELDS : kind === 'i' ? INSTANCE_FIELDS : refuse('no kind it knows')
  for (const name of field.keys()) if (!known.has(name)) refuse(`an unknown field ${JSON.stringify(name.slice(0, 20))}`)
  const instanceId = field.get('i') ?? refuse('no instance')
  const number = count(field.get('n')) ?? refuse('no call or hello id')
  if (kind === 'i') {
    if (position.seq === 0) refuse("an instance record at a change's place")
    return { update: { kind: 'instance', instanceId, since: number } }
  }
  if (position.seq !== 0) refuse("a change at an instance record's place")
  if (position.version === 0) refuse('a change to version 0')
  const patchesJson = field.get('p') ?? refuse('no patches')
  if (!patchesJson.startsWith('[')) refuse('its patches are not a list')
  const hasValue = field.get('h')
  if (hasValue !== '0' && hasValue !== '1') refuse('no flag for its value')
  const valueJson = field.get('v') ?? refuse('no value')
  const action = field.get('a') ?? refuse('no action')
  const clientId = field.get('k') ?? refuse('no client')
  const presenceJson = field.get('m')
  if (presenceJson !== undefined && !presenceJson.startsWith('{')) refuse('its mark of a join or a leave is not an object')
  const stored = field.get('s')
  const storeVersion = stored === undefined ? undefined : (count(stored) ?? refuse('a store version that is not one'))
  const update: StorageEntry = {
    kind: 'change',
    version: position.version,
    patchesJson,
    instanceId,
    id: number,
    valueJson: hasValue === '1' ? valueJson : undefined,
    ...(action ? { action } : {}),
    ...(clientId ? { clientId } : {}),
    ...(storeVersion === undefined ? {} : { storeVersion }),
    ...(presenceJson === undefined ? {} : { presenceJson }),
  }
  return storeVersion === undefined ? { update } : { update, storeVersion }
}

/** `text` as a whole number of at most 16 digits, or `undefined`. */
function count(text: string | undefined): number | undefined {
  if (text === undefined || !/^(0|[1-9][0-9]{0,15})$/.test(text)) return undefined
  const value = Number(text)
  return Number.isSafeInteger(value) ? value : undefined
}
