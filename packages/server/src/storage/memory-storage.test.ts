import { describe, expect, it } from 'vitest'
import { type MemoryPlace, memoryPlace } from './memory-storage.js'
import type { Storage, StorageEntry } from './storage.js'
import { type StorageContractOptions, defineStorageContract, storageContract } from './storage-contract.js'

describe('memoryPlace keeps the storage contract', () => {
  // A snapshot every 7 entries: the long cases read back stores folded into many snapshots.
  defineStorageContract(it, () => memoryPlace({ snapshotEvery: 7 }), { exclusive: true, failWrites: true })
})

describe('memoryPlace, shared, keeps the storage contract', () => {
  defineStorageContract(it, () => memoryPlace({ shared: true, snapshotEvery: 7 }), { shared: true, failWrites: true })
})

describe('the storage contract, against storages that break it', () => {
  /** The cases of `place`'s storages that fail. */
  async function failing(place: () => MemoryPlace, options: StorageContractOptions = {}): Promise<string[]> {
    const cases = storageContract(() => place(), options)
    const failed = await Promise.all(
      cases.map((each) =>
        each.run().then(
          () => '',
          () => each.name,
        ),
      ),
    )
    return failed.filter((name) => name !== '')
  }

  /** `place` with each storage's write changed by `change`. */
  const altered = (
    place: MemoryPlace,
    change: (storage: Storage, entries: readonly StorageEntry[]) => ReturnType<Storage['write']>,
  ) => ({
    ...place,
    storage: () => {
      const storage = place.storage()
      return { ...storage, write: (entries: readonly StorageEntry[]) => change(storage, entries) }
    },
  })

  it('fails a storage that drops the values of answers', async () => {
    const lossy = () =>
      altered(memoryPlace(), (storage, entries) =>
        storage.write(entries.map((entry) => (entry.kind === 'change' ? { ...entry, valueJson: undefined } : entry))),
      )
    expect(await failing(lossy)).toContain(
      'hands back every entry after a close, in order, each field as given, and keeps the epoch',
    )
  })

  it('fails a shared storage that says a write it refused was written', async () => {
    const careless = () =>
      altered(memoryPlace({ shared: true }), async (storage, entries) => {
        await storage.write(entries)
      })
    const failed = await failing(careless, { shared: true })
    expect(failed).toContain(
      'refuses a write made against a version another server moved past: a conflict, nothing written, the winner handed in first',
    )
  })
})
