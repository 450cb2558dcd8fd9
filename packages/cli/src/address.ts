// Where the server listens: from `--path`, the flags, the environment or the demo's default address.
import { basename, dirname, sep } from 'node:path'
import { resolveSocketPath } from '@ipc-state/protocol/node'

/** Where a server listens, as node-ipc names it: its socket file is `socketRoot + appspace + id`. */
export interface ServerAddress {
  /** The folder holding the socket, always with its trailing separator. */
  socketRoot: string
  appspace: string
  id: string
}

/** What the command line gave for the address; a part left out comes from the environment. */
export interface AddressFlags {
  /** The socket file itself: when given, the other parts are not read. */
  path?: string
  socketRoot?: string
  appspace?: string
  id?: string
}

/** The address of the original node-ipc example, which the demo serves: `/tmp/cem/ipc-ogreniyorumserver-socket`. */
export const DEFAULT_ADDRESS: Readonly<ServerAddress> = Object.freeze({
  socketRoot: '/tmp/cem/',
  appspace: 'ipc-ogreniyorum',
  id: 'server-socket',
})

/** The environment variables that set each part of the address, as the demo reads them. */
export const ADDRESS_ENV = Object.freeze({
  socketRoot: 'IPC_STATE_SOCKET_ROOT',
  appspace: 'IPC_STATE_APPSPACE',
  id: 'IPC_STATE_ID',
} as const)

const nonEmpty = (value: string | undefined): string | undefined => (value === undefined || value === '' ? undefined : value)

/**
 * The server's address: the socket file named by `--path` when given (its folder as the socket
 * root, no appspace, its file name as the id), else each part from its flag, else its environment
 * variable, else {@link DEFAULT_ADDRESS}. An empty `IPC_STATE_APPSPACE` is kept (node-ipc allows an
 * empty appspace); empty socket roots and ids count as unset.
 *
 * @param flags `--path`, or `--socket-root`, `--appspace` and `--id`
 * @param env the environment
 * @default env process.env
 */
export function resolveAddress(flags: AddressFlags = {}, env: NodeJS.ProcessEnv = process.env): ServerAddress {
  const path = nonEmpty(flags.path)
  if (path !== undefined) return { socketRoot: dirname(path) + sep, appspace: '', id: basename(path) }
  let socketRoot = nonEmpty(flags.socketRoot) ?? nonEmpty(env[ADDRESS_ENV.socketRoot]) ?? DEFAULT_ADDRESS.socketRoot
  // node-ipc glues the parts together with nothing between them; a folder is what is meant.
  if (!socketRoot.endsWith('/') && !socketRoot.endsWith('\\')) socketRoot += '/'
  return {
    socketRoot,
    appspace: flags.appspace ?? env[ADDRESS_ENV.appspace] ?? DEFAULT_ADDRESS.appspace,
    id: nonEmpty(flags.id) ?? nonEmpty(env[ADDRESS_ENV.id]) ?? DEFAULT_ADDRESS.id,
  }
}

/** The socket file (a named pipe on Windows) of `address` on this platform. */
export function socketPathOf(address: ServerAddress): string {
  return resolveSocketPath({ ...address, platform: process.platform })
}
