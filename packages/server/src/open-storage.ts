// Opens the storage and starts the server from what it holds (state, version, epoch, record of answered calls), migrating it once when an older store version wrote it.
import { randomUUID } from 'node:crypto'
import type { ActionMap } from '@ipc-state/protocol'
import type { CallRecord } from './calls/call-record.js'
import type { ServerSettings } from './server-settings.js'
import type { Session } from './connections/session.js'
import type { StateFrames } from './connections/state-frames.js'
import { type ReplayOptions, type ReplayedStore, replayLog } from './storage/replay-log.js'
import type { RelayTarget } from './storage/call-relay.js'
import type { ExternalUpdate, PresentInstance, Storage, StoredLog } from './storage/storage.js'
import type { StoreRuntime } from './state/store-runtime.js'

/** What {@link openStorage} fills from the storage. */
export interface OpenStorageTargets<S extends object, A extends ActionMap<S>> {
  settings: ServerSettings<S, A>
  runtime: StoreRuntime<S>
  record: CallRecord<Session>
  snapshots: StateFrames
  /** The client instances present: kept in each snapshot, restored from the storage. */
  presence: { image(): PresentInstance[]; restore(present: readonly PresentInstance[]): void }
  /** Takes what other servers committed to a storage they share with this one. */
  receive(updates: readonly ExternalUpdate[]): void
  /** Takes the calls and replies a storage that relays calls to one writer hands over. */
  relay: RelayTarget
}

/** How this server replays a log a storage hands back. */
export function replayOptions<S extends object, A extends ActionMap<S>>({
  store,
  dedupWindow,
}: ServerSettings<S, A>): ReplayOptions {
  return {
    answersKept: dedupWindow,
    storeVersion: store.version ?? 1,
    initialState: JSON.parse(JSON.stringify(store.initialState)) as Record<string, unknown>,
  }
}

/**
 * Opens `storage` and starts the server from what it holds: the state, its version and epoch, and
 * the record of answered calls, so a call resent after a restart is answered, not applied again.
 * A state an older store version wrote goes through the store's `migrate`, and the storage keeps
 * the result before any change applies to it.
 * @throws IpcStateError from the storage (`STORE_LOCKED`, `STORE_DAMAGED`, `STORE_TOO_NEW`)
 * @throws TypeError when the stored state passes `maxStateBytes`, or `migrate` returns no state
 */
export async function openStorage<S extends object, A extends ActionMap<S>>(
  storage: Storage,
  { settings, runtime, record, snapshots, presence, receive, relay }: OpenStorageTargets<S, A>,
): Promise<void> {
  const { store, logger } = settings
  const options = replayOptions(settings)
  // A log the storage had checked before it returned it is replayed once.
  const checked = new WeakMap<StoredLog, ReplayedStore>()
  let log: StoredLog | undefined = await storage.open({
    storeVersion: options.storeVersion,
    maxEntryBytes: settings.maxStateBytes,
    initialStateJson: JSON.stringify(store.initialState),
    newEpoch: randomUUID(),
    logger,
    check: (stored) => void checked.set(stored, replayLog(stored, options)),
    image: () => {
      const present = presence.image()
      const image = { version: runtime.served.version, stateJson: snapshots.stateJson(), instances: record.image() }
      return present.length === 0 ? image : { ...image, present }
    },
    receive,
    relay,
  })
  try {
    let loaded: ReplayedStore
    let epoch: string
    do {
      epoch = log.epoch
      loaded = checked.get(log) ?? replayLog(log, options)
      if (loaded.storeVersion === options.storeVersion) break
      const state = migrate(settings, loaded.state, loaded.storeVersion)
      const stateJson = Buffer.from(JSON.stringify(state))
      const { instances, present } = loaded
      const image = { version: loaded.version + 1, storeVersion: options.storeVersion, stateJson, instances, present }
      log = await storage.migrate(image)
      if (log === undefined) {
        logger.info?.('migrated the stored state', { from: loaded.storeVersion, to: options.storeVersion, version: image.version })
        loaded = { state, version: image.version, storeVersion: options.storeVersion, instances, present }
      }
    } while (log !== undefined)
    runtime.restore(loaded.state, loaded.version, epoch, loaded.stateBytes)
    record.restore(loaded.instances)
    presence.restore(loaded.present)
    logger.info?.('state loaded from storage', { version: loaded.version, clients: loaded.instances.length })
  } catch (error) {
    await storage.close().catch(() => undefined)
    throw error
  }
}

/** The store's `migrate(state, fromVersion)`, its result normalised as JSON. */
function migrate<S extends object, A extends ActionMap<S>>(
  { store }: ServerSettings<S, A>,
  state: unknown,
  fromVersion: number,
): Record<string, unknown> {
  const migrated = store.migrate === undefined ? state : store.migrate(state, fromVersion)
  const json = JSON.stringify(migrated)
  if (typeof migrated !== 'object' || migrated === null || Array.isArray(migrated) || json === undefined) {
    throw new TypeError(`The store's migrate(state, ${fromVersion}) must return the state: a plain object of JSON values`)
  }
  return JSON.parse(json) as Record<string, unknown>
}
