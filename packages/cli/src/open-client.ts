// Connects to a server whose store the CLI does not know, saying where it looked and what to do when none answers.
import { randomUUID } from 'node:crypto'
import { stat } from 'node:fs/promises'
import { connect, ErrorCode, isIpcStateError, type IpcStateClient, type StoreDefinition } from '@ipc-state/client'
import { ADDRESS_ENV, socketPathOf, type ServerAddress } from './address.js'
import { CliError, ExitCode } from './exit-codes.js'

/** The store of a server the CLI knows nothing about: any state, any actions. */
export type AnyStore = StoreDefinition<any, any>

/** A client of {@link AnyStore}. */
export type AnyClient = IpcStateClient<AnyStore>

/** Options for {@link openClient}. */
export interface OpenClientOptions {
  address: ServerAddress
  /**
   * Keep a live replica: for commands that follow changes or report the version.
   * @default false
   */
  replica?: boolean
  /**
   * How long each request may wait, in milliseconds.
   * @default 10000
   */
  timeout?: number
  /**
   * Restore a lost connection: for commands that run until they are stopped.
   * @default false
   */
  reconnect?: boolean
  /**
   * The client id actions see as `context.clientId`, for actions that check who owns what.
   * @default `ipc-state-cli-` and eight random hex digits
   */
  clientId?: string
}

// A CLI is run by hand: a server that is not there should be said at once, not after the
// library's ten patient attempts.
const CONNECT_ATTEMPTS = 3

const HOW_TO_POINT = `--socket-root, --appspace and --id (or ${Object.values(ADDRESS_ENV).join(', ')}) at it, or --path at its socket`

/**
 * Connects to the server at `address`, turning a missing or silent server into a one-line
 * {@link CliError} that names the socket path and what to do.
 * @throws CliError with {@link ExitCode.FAILED} when no server answers there
 */
export async function openClient(options: OpenClientOptions): Promise<AnyClient> {
  const path = socketPathOf(options.address)
  // Named pipes have no file to look at.
  if (process.platform !== 'win32' && !(await exists(path))) {
    throw new CliError(`no server at ${path}: start the server first, or point ${HOW_TO_POINT}`, ExitCode.FAILED)
  }
  try {
    return await connect<AnyStore>({
      ...options.address,
      // Actions see it as context.clientId: say that a CLI called, and which run.
      clientId: options.clientId ?? `ipc-state-cli-${randomUUID().slice(0, 8)}`,
      replica: options.replica === true,
      timeout: options.timeout ?? 10_000,
      connectAttempts: CONNECT_ATTEMPTS,
      reconnectAttempts: options.reconnect === true ? Number.POSITIVE_INFINITY : 0,
    })
  } catch (error) {
    if (isIpcStateError(error) && error.code === ErrorCode.SERVER_UNAVAILABLE) {
      throw new CliError(
        `no server answers at ${path} (the socket file is there, but nothing listens): start the server first`,
        ExitCode.FAILED,
      )
    }
    throw error
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch (error) {
    // Anything else (say a folder we may not read) is left for connect to report.
    const code = (error as { code?: unknown }).code
    return code !== 'ENOENT' && code !== 'ENOTDIR'
  }
}
