// The `storage` option of createServer for a StorageConfig; without one the state is in memory.
import type { StorageConfig } from './configs.js'

/** `{}` (memory only): the durable storage is not wired in yet. */
export function storageOption(config: StorageConfig | undefined): Record<string, never> {
  if (config !== undefined) throw new Error('this build of ipc-state has no durable storage')
  return {}
}
