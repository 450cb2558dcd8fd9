// What every command is run with: the address, where it writes, and its signal.
import type { ServerAddress } from './address.js'
import type { Output } from './output.js'

/** What every command is run with. */
export interface CommandContext {
  /** Where the server listens. */
  address: ServerAddress
  output: Output
  /** The client id to connect with (`--client-id`); the CLI makes one up when it is not given. */
  clientId?: string
  /** How long each request may wait, in milliseconds. */
  timeout: number
  /** Aborted when the process is asked to stop (SIGINT, SIGTERM): ends `watch` and `inspect`. */
  signal: AbortSignal
}
