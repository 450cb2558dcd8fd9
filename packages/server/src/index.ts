export { createServer } from './create-server.js'
export type { CreateServerOptions, IpcStateServer } from './create-server.js'
export { defineStore, ErrorCode, IpcStateError, isIpcStateError } from '@ipc-state/protocol'
export type { Logger, StoreDefinition, ActionContext } from '@ipc-state/protocol'
