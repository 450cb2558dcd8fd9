// The `storage` option of createServer: a data folder (fileStorage), a store shared through Redis
// (redisStorage, loaded only then), or neither (the state is in memory).
import { fileStorage, type Storage } from '@ipc-state/server'
import type { SharedStoreConfig, StorageConfig } from './configs.js'

/** `{ storage }` for a data folder or a shared store, or `{}` (memory only) without either. */
export async function storageOption(config: StorageConfig | undefined, shared?: SharedStoreConfig): Promise<{ storage?: Storage }> {
  if (shared !== undefined) {
    const { redisStorage } = await import('@ipc-state/redis')
    return { storage: redisStorage(shared) }
  }
  return config === undefined ? {} : { storage: fileStorage(config) }
}
