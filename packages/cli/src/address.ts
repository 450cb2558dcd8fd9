// Where the server listens: the command line and the environment turned into the address `connect` takes.
import { basename, dirname, sep } from 'node:path'
import { lstatSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { localSocketRoot, resolveSocketPath } from '@ipc-state/protocol/node'
import { CliError, ExitCode } from './exit-codes.js'

/**
 * Where a server listens, as `connect` takes it: its socket file is `socketRoot + appspace + id`,
 * with the library's defaults for the parts left out.
 */
export interface ServerAddress {
  /** The folder holding the socket, with its trailing separator; left out, the library's own folder. */
  socketRoot?: string
  /** Left out, the library's `'app.'`. */
  appspace?: string
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

/** The environment variables that set each part of the address, as the demo reads them too. */
export const ADDRESS_ENV = Object.freeze({
  socketRoot: 'IPC_STATE_SOCKET_ROOT',
  appspace: 'IPC_STATE_APPSPACE',
  id: 'IPC_STATE_ID',
} as const)

const nonEmpty = (value: string | undefined): string | undefined => (value === undefined || value === '' ? undefined : value)

/**
 * The server's address: the socket file named by `--path` when given (its folder as the socket
 * root, no appspace, its file name as the id), else each part from its flag, else its environment
 * variable, else what `connect` uses when it is left out: the library's socket folder
 * (`$XDG_RUNTIME_DIR/ipc-state/` or `<tmpdir>/ipc-state-<uid>/`) and the appspace `'app.'`. So a
 * server made with the library's defaults is reached with its id alone. An empty
 * `IPC_STATE_APPSPACE` is kept (node-ipc allows an empty appspace); empty socket roots and ids
 * count as unset.
 *
 * @param flags `--path`, or `--socket-root`, `--appspace` and `--id`
 * @param env the environment
 * @default env process.env
 * @throws CliError with `ExitCode.USAGE` when neither `--path` nor an id is given
 */
export function resolveAddress(flags: AddressFlags = {}, env: NodeJS.ProcessEnv = process.env): ServerAddress {
  const path = nonEmpty(flags.path)
  if (path !== undefined) return { socketRoot: dirname(path) + sep, appspace: '', id: basename(path) }
  const id = nonEmpty(flags.id) ?? nonEmpty(env[ADDRESS_ENV.id])
  if (id === undefined) {
    throw new CliError(
      `which server? give its --id (or ${ADDRESS_ENV.id}), as it was given to createServer, or --path to its socket`,
      ExitCode.USAGE,
    )
  }
  const address: ServerAddress = { id }
  let socketRoot = nonEmpty(flags.socketRoot) ?? nonEmpty(env[ADDRESS_ENV.socketRoot])
  if (socketRoot !== undefined) {
    // node-ipc glues the parts together with nothing between them; a folder is what is meant.
    if (!socketRoot.endsWith('/') && !socketRoot.endsWith('\\')) socketRoot += '/'
    address.socketRoot = socketRoot
  }
  const appspace = flags.appspace ?? env[ADDRESS_ENV.appspace]
  if (appspace !== undefined) address.appspace = appspace
  return address
}

/**
 * The socket file (a named pipe on Windows) that `connect` opens for `address` on this platform:
 * with the socket folder server and client both default to when `address` names none.
 */
export function socketPathOf(address: ServerAddress): string {
  const socketRoot = address.socketRoot ?? localSocketRoot({ process, lstatSync, tmpdir })
  return resolveSocketPath({ ...address, socketRoot, platform: process.platform })
}
