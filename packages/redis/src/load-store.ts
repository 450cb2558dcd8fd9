import { ErrorCode, IpcStateError } from '@ipc-state/protocol'
import type { LoadedStore, StorageContext, StorageEntry } from '@ipc-state/server'
import type { Connection } from './connection.js'
import { type LogPosition, type StreamEntry, decodeEntry, encodeEntries, follows, positionOf, streamId } from './log-entries.js'
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

/**
 * Loads the latest snapshot and the log after it: the state at the latest version, and every
 * answer and client instance recorded, so a server knows them all before it listens.
 * @throws IpcStateError `STORE_DAMAGED` when the log misses entries after the snapshot
 */
export async function loadStore(redis: Connection, keys: StoreKeys, context: StorageContext, epoch: string): Promise<Loaded> {
  for (let attempt = 0; ; attempt++) {
    const bytes = await redis.getBuffer(keys.snapshot)
    if (bytes === null)
      throw new IpcStateError(ErrorCode.BACKEND_UNAVAILABLE, `The store is gone from Redis (key ${keys.snapshot})`)
    const snapshot = decodeSnapshot(bytes)
    const store = storeFrom(snapshot)
    let position: LogPosition = { version: store.version, seq: 0 }
    let complete = true
    for (;;) {
      const page = (await redis.xrange(keys.log, `(${streamId(position)}`, '+', 'COUNT', PAGE)) as StreamEntry[]
      const first = page[0]
      if (first !== undefined && !follows(position, positionOf(first[0]))) {
        complete = false
        break
      }
      replay(store, page.map(decodeEntry), context.answersKept)
      if (page.length > 0) position = positionOf(page[page.length - 1]![0])
      if (page.length < PAGE) break
    }
    if (complete) {
      const loaded = { epoch, version: store.version, state: store.state, instances: [...store.instances.values()] }
      return { store: loaded, position, snapshot: snapshot.version }
    }
    // A newer snapshot trimmed the log between the two reads: read both again.
    if (attempt === 5)
      throw new IpcStateError(ErrorCode.STORE_DAMAGED, `The log in Redis (key ${keys.log}) misses entries after its snapshot`)
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
  const [epoch, , , stored] = await redis.ipcStateInit(keys.meta, keys.snapshot, context.newEpoch, context.storeVersion, initial)
  const storeVersion = Number(stored)
  if (storeVersion > context.storeVersion) {
    throw new IpcStateError(
      ErrorCode.STORE_TOO_NEW,
      `The store in Redis at ${settings.safeUrl} (key ${settings.key}) was written by store version ${storeVersion}; this server runs version ${context.storeVersion}`,
      { data: { stored: storeVersion, running: context.storeVersion } },
    )
  }
  const loaded = await loadStore(redis, keys, context, epoch!)
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
  const args = [
    loaded.store.version,
    context.storeVersion,
    streamId(loaded.position),
    context.newEpoch,
    ...encodeEntries([migration]),
  ]
  const [status] = await redis.ipcStateCommit(keys.meta, keys.log, keys.turn, ...args)
  if (status === -1) throw new IpcStateError(ErrorCode.BACKEND_UNAVAILABLE, `The store is gone from Redis (key ${keys.meta})`)
  // Another server wrote (or migrated) first, or has the turn: start over from what it wrote.
  if (status !== 1) return openStore(redis, keys, context, settings)
  context.logger.info?.('migrated the store in Redis', { from: storeVersion, to: context.storeVersion })
  return { ...loaded, store: { ...loaded.store, state, version }, position: { version, seq: 0 } }
}
