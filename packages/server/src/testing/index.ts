// @ipc-state/server/testing: what tests of a store use to run a server and its clients in one process.
export { memoryTransport } from './memory-transport.js'
export type {
  MemoryClientConnection,
  MemoryClientHandlers,
  MemoryClientTransport,
  MemoryTransport,
  MemoryTransportOptions,
} from './memory-transport.js'
