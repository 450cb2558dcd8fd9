/**
 * What tests use to run a server and its clients in one process, an in-memory storage, the
 * storage contract's conformance suite, and the checks a writer makes of a relayed call and of its reply.
 * @module @ipc-state/server/testing
 */
export { memoryTransport } from './memory-transport.js'
export type {
  MemoryClientConnection,
  MemoryClientHandlers,
  MemoryClientTransport,
  MemoryTransport,
  MemoryTransportOptions,
} from './memory-transport.js'
export { memoryPlace } from '../storage/memory-storage.js'
export type { MemoryPlace, MemoryPlaceOptions } from '../storage/memory-storage.js'
export { defineStorageContract, storageContract } from '../storage/storage-contract.js'
export type { StorageCase, StorageContractOptions, StoragePlace } from '../storage/storage-contract.js'
export { decodeRelayedFrame, isReply } from '../calls/relayed-calls.js'
