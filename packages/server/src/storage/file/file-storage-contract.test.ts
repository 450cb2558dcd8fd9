import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'vitest'
import { fileStorage } from './file-storage.js'
import { defineStorageContract } from '../storage-contract.js'

/** A fresh data folder per case; a small `compactBytes`, so the long cases read back snapshots and the journal after them. */
async function folderPlace() {
  const dir = await mkdtemp(join(tmpdir(), 'ipc-state-contract-'))
  return {
    storage: () => fileStorage({ dir, fsync: 'always', compactBytes: 4 * 1024 }),
    dispose: () => rm(dir, { recursive: true, force: true }),
  }
}

describe('fileStorage keeps the storage contract', () => {
  defineStorageContract(it, folderPlace, { exclusive: true, pipelined: true })
})
