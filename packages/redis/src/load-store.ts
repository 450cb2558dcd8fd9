// Loading the whole store from Redis (its latest snapshot and the log after it), and making or
// migrating it at start-up; every entry checked, and what does not belong refused as damage.
import { ErrorCode, IpcStateError } from '@ipc-state/protocol'
import type { LoadedStore, StorageContext, StorageEntry } from '@ipc-state/server'
import type { Connection } from './connection.js'
import { type LogPosition, type StreamEntry, encodeEntries, follows, positionOf, readEntry, streamId } from './log-entries.js'
import type { RedisStorageSettings } from './redis-options.js'
import { decodeSnapshot, encodeSnapshot, replay, storeFrom } from './replay-log.js'

/** The keys of one store in Redis. */
export interface StoreKeys {
  meta: string
  log: string
  snapshot: string
  /** Which server has the next turn after losing a race (see scripts.ts). */
  turn: string
}

/** What a load read: the whole store, where in the log it is, and the snapshot it started from. */
export interface Loaded {
  store: LoadedStore
  position: LogPosition
  /** The snapshot's version. */
  snapshot: number
}

/** Log entries read at once. */
export const PAGE = 1_000

/** `STORE_DAMAGED`, naming the key (and the log entry) that holds what this storage did not write. */
export function damaged(key: string, what: string, entry?: string): IpcStateError {
  const where = entry === undefined ? `key ${key}` : `key ${key}, entry ${entry}`
  return new IpcStateError(ErrorCode.STORE_DAMAGED, `The store in Redis (${where}) cannot be used: ${what}`, {
    data: entry === undefined ? { key } : { key, entry },
  })
}

/** `STORE_TOO_NEW`: the store in Redis was migrated to a newer store version than this server runs. */
export function tooNew(settings: RedisStorageSettings, stored: number, running: number): IpcStateError {
  return new IpcStateError(
    ErrorCode.STORE_TOO_NEW,
    `The store in Redis at ${settings.safeUrl} (key ${settings.key}) was written by store version ${stored}; this server runs version ${running}`,
    { data: { stored, running } },
  )
}

/**
 * Loads the latest snapshot and the log after it: the state at the latest version, and every
 * answer and client instance recorded, so a server knows them all before it listens. With
 * `expectedEpoch`, refuses a store that is not the one of that epoch any more (flushed and made
 * again by another server).
 * @throws IpcStateError `STORE_DAMAGED` when the snapshot or an entry is not one this storage wrote,
 * or does not apply, or the log misses entries after the snapshot; `STORE_TOO_NEW`
 */
export async function loadStore(
  redis: Connection,
  keys: StoreKeys,
  context: StorageContext,
  settings: RedisStorageSettings,
  epoch: string,
  expectedEpoch?: string,
): Promise<Loaded> {
  for (let attempt = 0; ; attempt++) {
    // One step: the snapshot is the one of the store whose epoch comes with it.
    const replies = ((await redis.multi().getBuffer(keys.snapshot).hget(keys.meta, 'epoch').exec()) ?? []) as [
      Error | null,
      unknown,
    ][]
    for (const [error] of replies) if (error) throw error
    const bytes = replies[0]?.[1] as Buffer | null | undefined
    const stored = replies[1]?.[1] as string | null | undefined
    if (expectedEpoch !== undefined && stored !== expectedEpoch) {
      throw damaged(
        keys.meta,
        `the store was replaced or lost its data (epoch ${stored ?? 'none'}, this server's ${expectedEpoch})`,
      )
    }
    if (bytes === null || bytes === undefined) throw damaged(keys.snapshot, 'the snapshot is gone')
    let snapshot: ReturnType<typeof decodeSnapshot>
    try {
      snapshot = decodeSnapshot(bytes, context.maxEntryBytes)
    } catch (error) {
      throw damaged(keys.snapshot, (error as Error).message)
    }
    if (snapshot.storeVersion > context.storeVersion) throw tooNew(settings, snapshot.storeVersion, context.storeVersion)
    const store = storeFrom(snapshot)
    let position: LogPosition = { version: store.version, seq: 0 }
    let complete = true
    for (;;) {
      const page = (await redis.xrange(keys.log, `(${streamId(position)}`, '+', 'COUNT', PAGE)) as StreamEntry[]
      for (const [index, entry] of page.entries()) {
        const id = String(entry[0])
        let read: ReturnType<typeof readEntry>
        try {
          read = readEntry(entry, context.maxEntryBytes)
        } catch (error) {
          throw damaged(keys.log, (error as Error).message, id)
        }
        if (!follows(position, positionOf(id))) {
          // A newer snapshot trimmed the log between the two reads: read both again. A hole
          // further on is damage.
          if (index > 0 || attempt === 5) throw damaged(keys.log, `the log misses the entries before this one`, id)
          complete = false
          break
        }
        if (read.storeVersion !== undefined && read.storeVersion > context.storeVersion) {
          throw tooNew(settings, read.storeVersion, context.storeVersion)
        }
        try {
          replay(store, [read.update], context.answersKept)
        } catch (error) {
          throw damaged(keys.log, `its change does not apply to the state: ${(error as Error).message}`, id)
        }
        if (typeof store.state !== 'object' || store.state === null || Array.isArray(store.state)) {
          throw damaged(keys.log, 'its change leaves a state that is not an object', id)
        }
        position = positionOf(id)
      }
      if (!complete || page.length < PAGE) break
    }
    if (complete) {
      const loaded = { epoch, version: store.version, state: store.state, instances: [...store.instances.values()] }
      return { store: loaded, position, snapshot: snapshot.version }
    }
  }
}

/**
 * Makes the store when Redis holds none, loads it, and migrates it to this server's store version
 * (once, by whichever server gets there first; the others see the new store version).
 * @throws IpcStateError `STORE_TOO_NEW`, `STORE_DAMAGED`
 */
export async function openStore(
  redis: Connection,
  keys: StoreKeys,
  context: StorageContext,
  settings: RedisStorageSettings,
): Promise<Loaded> {
  const initial = encodeSnapshot(0, context.storeVersion, [], Buffer.from(context.initialStateJson))
  const made = await redis.ipcStateInit(keys.meta, keys.snapshot, keys.log, context.newEpoch, context.storeVersion, initial)
  if (made[0] === 'damaged') throw damaged(keys.meta, "the store's meta key is gone while its log or snapshot is still there")
  const [epoch, , , stored] = made
  const storeVersion = Number(stored)
  if (typeof epoch !== 'string' || !Number.isSafeInteger(storeVersion) || storeVersion < 1) {
    throw damaged(keys.meta, 'its epoch or store version is not one ipc-state wrote')
  }
  if (storeVersion > context.storeVersion) throw tooNew(settings, storeVersion, context.storeVersion)
  const loaded = await loadStore(redis, keys, context, settings, epoch, epoch)
  if (storeVersion === context.storeVersion) return loaded
  const state = context.migrate(loaded.store.state, storeVersion)
  const version = loaded.store.version + 1
  const migration: StorageEntry = {
    kind: 'change',
    version,
    patchesJson: JSON.stringify([{ op: 'replace', path: [], value: state }]),
    instanceId: '',
    id: 0,
    valueJson: undefined,
  }
  const args = commitArguments(
    loaded.store.version,
    context.storeVersion,
    streamId(loaded.position),
    context.newEpoch,
    epoch,
    context.storeVersion,
  )
  const [status, detail] = await redis.ipcStateCommit(keys.meta, keys.log, keys.turn, ...args, ...encodeEntries([migration]))
  if (status === -2) throw damaged(keys.log, 'the last entry of the log is not one this storage wrote', String(detail))
  if (status === -5) throw damaged(keys.meta, 'its version, epoch or store version is not one ipc-state wrote')
  // Another server wrote (or migrated) first, or has the turn, or the store was flushed meanwhile:
  // start over from what Redis holds now.
  if (status !== 1) return openStore(redis, keys, context, settings)
  context.logger.info?.('migrated the store in Redis', { from: storeVersion, to: context.storeVersion })
  return { ...loaded, store: { ...loaded.store, state, version }, position: { version, seq: 0 } }
}

/** The commit script's arguments before the entries (see scripts.ts). */
export function commitArguments(
  base: number,
  migrateTo: number | '',
  lastId: string,
  serverId: string,
  epoch: string,
  storeVersion: number,
): (string | number)[] {
  return [base, migrateTo, lastId, serverId, epoch, storeVersion]
}
