import type { ExternalUpdate, StorageEntry } from '@ipc-state/server'

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
      args.push('i', entry.instanceId, String(entry.since), '', '', '0', '', '')
    } else {
      const { instanceId, id, patchesJson, valueJson, action, clientId } = entry
      args.push(
        'c',
        instanceId,
        String(id),
        patchesJson,
        valueJson ?? '',
        valueJson === undefined ? '0' : '1',
        action ?? '',
        clientId ?? '',
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

/**
 * The update one stream entry holds.
 * @throws TypeError when the entry is not one this storage wrote
 */
export function decodeEntry([id, fields]: StreamEntry): ExternalUpdate {
  const field = new Map<string, string>()
  for (let i = 0; i + 1 < fields.length; i += 2) field.set(fields[i]!, fields[i + 1]!)
  const kind = field.get('t')
  const instanceId = field.get('i') ?? ''
  const number = Number(field.get('n'))
  if (kind === 'i') return { kind: 'instance', instanceId, since: number }
  if (kind !== 'c') throw new TypeError(`The log entry ${id} is not one ipc-state wrote`)
  const action = field.get('a')
  const clientId = field.get('k')
  return {
    kind: 'change',
    version: positionOf(id).version,
    patchesJson: field.get('p') ?? '[]',
    instanceId,
    id: number,
    valueJson: field.get('h') === '1' ? field.get('v') : undefined,
    ...(action ? { action } : {}),
    ...(clientId ? { clientId } : {}),
  }
}
