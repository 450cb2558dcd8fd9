// What the harness passes to each worker process, shared by both sides so they agree on it.

/** The side a server or client belongs to: one column of the table. */
export type SideKind = 'ipc-state' | 'net' | 'node-ipc' | 'redis'

/** Where a client finds its server. */
export type Address =
  | { kind: 'ipc-state'; socketRoot: string; appspace: string; id: string }
  | { kind: 'net' | 'node-ipc' | 'redis'; path: string }
  /** An ipc-state server's WebSocket listener (the client loads the browser entry, with `ws`). */
  | { kind: 'websocket'; url: string; token: string }

/** The ipc-state server's durable storage, as `fileStorage` takes it. */
export interface StorageConfig {
  dir: string
  fsync: 'always' | 'interval' | 'off'
  /** Journal bytes after the last snapshot that make a new one. */
  compactBytes?: number
}

/** A store in Redis that several ipc-state servers share, as `redisStorage` takes it. */
export interface SharedStoreConfig {
  /** Redis's Unix socket path (a URL would do too). */
  url: string
  /** The prefix of the store's keys. */
  key: string
  /** `false`: each server runs its own clients' calls (see `redisStorage`); the storage's default otherwise. */
  relayCalls?: boolean
}

/** Configuration of the ipc-state server worker. */
export interface IpcStateServerConfig {
  address: Extract<Address, { kind: 'ipc-state' }>
  /** Items in the state's list when the server starts. */
  listItems: number
  storage?: StorageConfig
  /** A store shared through Redis, instead of `storage`. */
  sharedStore?: SharedStoreConfig
  /** Listen on a WebSocket (`listenWebSocket` on 127.0.0.1) instead of the Unix socket. */
  websocket?: boolean
}

/** Configuration of the raw `node:net` and node-ipc server workers. */
export interface PlainServerConfig {
  path: string
  /** Items in the state's list, which `snapshot` sends and `pushShift` caps. */
  listItems: number
}

/** Configuration of a client worker. */
export interface ClientConfig {
  address: Address
  /** ipc-state only: keep a replica (the client's default). */
  replica: boolean
}

/** Configuration of the lock server worker (the takeover row). */
export interface LockServerConfig {
  address: Extract<Address, { kind: 'ipc-state' }>
  /** The server's `leaveGrace`, in ms. */
  leaveGrace: number
}

/** Configuration of a lock client worker (the takeover row): an ipc-state or a Redis address. */
export interface LockClientConfig {
  address: Address
}

/** How a worker thread reaches the ipc-state server in its process's main thread. */
export type ThreadTransport = 'message-port' | 'unix-socket'

/** Configuration of the thread host worker: a server in its main thread, a client in a worker thread. */
export interface ThreadHostConfig {
  address: Extract<Address, { kind: 'ipc-state' }>
  transport: ThreadTransport
}
