// Loading the whole store from Redis (its latest snapshot and the log after it), making it at
// start-up and keeping a migration of it; every entry checked, and what does not belong refused as damage.
import type { MigratedImage, StorageContext, StorageEntry, StoredLog } from '@ipc-state/server'
import type { Connection } from './connection.js'
import { type LogPosition, type StreamEntry, encodeEntries, follows, positionOf, readEntry, streamId } from './log-entries.js'
import type { RedisStorageSettings } from './redis-options.js'
import { damaged, tooNew } from './store-errors.js'
import { decodeSnapshot, encodeSnapshot } from './snapshot-key.js'

/** The keys of one store in Redis. */
export interface StoreKeys {
  meta: string
  log: string
  snapshot: string
  /** Which server has the next turn after losing a race (see scripts.ts). */
  turn: string
  /** This server's lease (see server-lease.ts). */
  lease: string
  /** The writer's lease, and the stream of calls relayed to it (see relay/redis-relay.ts). */
  writer: string
  calls: string
}

/** What a load read: the whole store, where in the log it is, and the snapshot it started from. */
export interface Loaded {
  store: StoredLog
  position: LogPosition
  /** The snapshot's version. */
  snapshot: number
}

/** Log entries read at once. */
export const PAGE = 1_000

/**
 * Loads the latest snapshot and the log after it, each entry checked for its fields and its place,
 * so a server knows every change, answer and client instance before it listens. With
 * `expectedEpoch`, refuses a store that is not the one of that epoch any more (flushed and made
 * again by another server). The log's damage is named by key and entry id.
 * @throws IpcStateError `STORE_DAMAGED` when the snapshot or an entry is not one this storage wrote,
 * or the log misses entries after the snapshot; `STORE_TOO_NEW`
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
    const entries: StorageEntry[] = []
    const ids: string[] = []
    let position: LogPosition = { version: snapshot.version, seq: 0 }
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
        entries.push(read.update as StorageEntry)
        ids.push(id)
        position = positionOf(id)
      }
      if (!complete || page.length < PAGE) break
    }
    if (complete) {
      const store: StoredLog = {
        epoch,
        storeVersion: snapshot.storeVersion,
        version: snapshot.version,
        state: snapshot.state,
        instances: snapshot.instances,
        ...(snapshot.present.length === 0 ? {} : { present: snapshot.present }),
        entries,
        damaged: (at, what) => (at === 'snapshot' ? damaged(keys.snapshot, what) : damaged(keys.log, what, ids[at])),
      }
      return { store, position, snapshot: snapshot.version }
    }
  }
}

/**
 * Makes the store when Redis holds none, and loads it.
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
  return loadStore(redis, keys, context, settings, epoch, epoch)
}

/**
 * Appends the server's migration of the store loaded at `from` (a change that replaces the whole
 * state, marked with the store version it migrated to), if the store did not move since.
 * @returns whether it was written; when not, the caller loads the store again
 * @throws IpcStateError `STORE_DAMAGED` when the log or the meta key is not what this storage wrote
 */
export async function appendMigration(
  redis: Connection,
  keys: StoreKeys,
  from: { epoch: string; position: LogPosition },
  image: MigratedImage,
  serverId: string,
): Promise<boolean> {
  const migration: StorageEntry = {
    kind: 'change',
    version: image.version,
    patchesJson: `[{"op":"replace","path":[],"value":${Buffer.from(image.stateJson).toString('utf8')}}]`,
    instanceId: '',
    id: 0,
    valueJson: undefined,
  }
  const base = image.version - 1
  const args = commitArguments(base, image.storeVersion, streamId(from.position), serverId, from.epoch, image.storeVersion)
  const [status, detail] = await redis.ipcStateCommit(
    keys.meta,
    keys.log,
    keys.turn,
    keys.writer,
    keys.calls,
    ...args,
    ...encodeEntries([migration]),
  )
  if (status === -2) throw damaged(keys.log, 'the last entry of the log is not one this storage wrote', String(detail))
  if (status === -5) throw damaged(keys.meta, 'its version, epoch or store version is not one ipc-state wrote')
  // Another server wrote (or migrated) first, or has the turn, or the store was flushed meanwhile.
  return status === 1
}

/** The commit script's arguments before the entries (see scripts.ts). */
export function commitArguments(
  base: number,
  migrateTo: number | '',
  lastId: string,
  serverId: string,
  epoch: string,
  storeVersion: number,
  chain: { commit: number; after: number | '' } = { commit: 0, after: '' },
): (string | number)[] {
  return [base, migrateTo, lastId, serverId, epoch, storeVersion, chain.commit, chain.after]
}
