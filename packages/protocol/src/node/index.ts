/**
 * Socket paths, node-ipc's rule and the folder only this user can write to, and what the
 * Unix-socket transports share.
 * @module @ipc-state/protocol/node
 */
export {
  DEFAULT_APPSPACE,
  DEFAULT_SOCKET_ROOT,
  defaultSocketRoot,
  maxUnixSocketPathBytes,
  resolveSocketPath,
  socketRootWarning,
} from './socket-path.js'
export type { SocketAddress, ResolveSocketPathOptions, DefaultSocketRootOptions, FolderStat } from './socket-path.js'
export { localSocketRoot } from './local-socket-root.js'
export type { LocalSocketRootHost } from './local-socket-root.js'
export { readAsBytes } from './read-as-bytes.js'
export type { DecodingSocket } from './read-as-bytes.js'
