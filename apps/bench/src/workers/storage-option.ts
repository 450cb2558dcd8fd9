// The `storage` option of createServer for a StorageConfig; without one the state is in memory.
import { fileStorage } from '@ipc-state/server'
import type { StorageConfig } from './configs.js'

/** `{ storage: fileStorage(config) }`, or `{}` (memory only) without a config. */
export function storageOption(config: StorageConfig | undefined): { storage?: ReturnType<typeof fileStorage> } {
  return config === undefined ? {} : { storage: fileStorage(config) }
}
