// `ipc-state get`: prints the server's state, or the part at a path.
import type { CommandContext } from '../command-context.js'
import { CliError, ExitCode } from '../exit-codes.js'
import { openClient } from '../open-client.js'
import { formatJson } from '../output.js'
import { valueAtPath } from '../value-path.js'

/** Options of `ipc-state get`. */
export interface GetOptions {
  /** A dotted path into the state (`messages.0.text`); the whole state without it. */
  path?: string
  /**
   * Print plain JSON on one line instead of indented (and, on a terminal, coloured) JSON.
   * @default false
   */
  json?: boolean
}

/**
 * `ipc-state get [path]`: asks the server for its state and prints it, or the part at `path`.
 * @throws CliError with {@link ExitCode.FAILED} when nothing is at `path`
 */
export async function runGet(context: CommandContext, options: GetOptions): Promise<void> {
  const { output } = context
  // A one-off read needs no replica: one round trip is all it takes.
  await using client = await openClient({ address: context.address, clientId: context.clientId, timeout: context.timeout })
  const state = await client.getState()
  const value = valueAtPath(state, options.path)
  if (value === undefined) {
    throw new CliError(
      `nothing at ${JSON.stringify(options.path)} in the state: run \`ipc-state get\` to see what is there`,
      ExitCode.FAILED,
    )
  }
  output.line(formatJson(value, { compact: options.json === true, color: options.json !== true && output.color }))
}
