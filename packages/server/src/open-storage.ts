// Opens the storage and starts the server from what it holds: state, version, epoch and the record of answered calls.
import { randomUUID } from 'node:crypto'
import type { ActionMap } from '@ipc-state/protocol'
import type { CallRecord } from './calls/call-record.js'
import type { ServerSettings } from './server-options.js'
import type { Session } from './connections/session.js'
import type { StateFrames } from './connections/state-frames.js'
import type { ExternalUpdate, Storage } from './storage/storage.js'
import type { StoreRuntime } from './state/store-runtime.js'

/** What {@link openStorage} fills from the storage. */
export interface OpenStorageTargets<S extends object, A extends ActionMap<S>> {
  settings: ServerSettings<S, A>
  runtime: StoreRuntime<S>
  record: CallRecord<Session>
  snapshots: StateFrames
  /** Takes what other servers committed to a storage they share with this one. */
  receive(updates: readonly ExternalUpdate[]): void
}

/**
 * Opens `storage` and starts the server from what it holds: the state, its version and epoch, and
 * the record of answered calls, so a call resent after a restart is answered, not applied again.
 * A storage that holds nothing yet starts from the store's initial state.
 * @throws IpcStateError from the storage (`STORE_LOCKED`, `STORE_DAMAGED`, `STORE_TOO_NEW`)
 * @throws TypeError when the stored state passes `maxStateBytes`
 */
export async function openStorage<S extends object, A extends ActionMap<S>>(
  storage: Storage,
  { settings, runtime, record, snapshots, receive }: OpenStorageTargets<S, A>,
): Promise<void> {
  const { store, logger } = settings
  const loaded = await storage.open({
    storeVersion: store.version ?? 1,
    answersKept: settings.dedupWindow,
    maxEntryBytes: settings.maxStateBytes,
    initialStateJson: JSON.stringify(store.initialState),
    newEpoch: randomUUID(),
    logger,
    migrate: (state, fromVersion) => {
      const migrated = store.migrate === undefined ? state : store.migrate(state, fromVersion)
      const json = JSON.stringify(migrated)
      if (typeof migrated !== 'object' || migrated === null || Array.isArray(migrated) || json === undefined) {
        throw new TypeError(`The store's migrate(state, ${fromVersion}) must return the state: a plain object of JSON values`)
      }
      return JSON.parse(json)
    },
    image: () => ({ version: runtime.served.version, stateJson: snapshots.stateJson(), instances: record.image() }),
    receive,
  })
  try {
    runtime.restore(loaded.state ?? store.initialState, loaded.version, loaded.epoch)
    record.restore(loaded.instances)
  } catch (error) {
    await storage.close().catch(() => undefined)
    throw error
  }
  logger.info?.('state loaded from storage', { version: loaded.version, clients: loaded.instances.length })
}
