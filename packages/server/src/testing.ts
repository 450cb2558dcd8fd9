// What tests of a store or of a storage use: an in-memory storage, and the storage contract's conformance suite.
export { memoryPlace } from './storage/memory-storage.js'
export type { MemoryPlace, MemoryPlaceOptions } from './storage/memory-storage.js'
export { defineStorageContract, storageContract } from './storage/storage-contract.js'
export type { StorageCase, StorageContractOptions, StoragePlace } from './storage/storage-contract.js'
