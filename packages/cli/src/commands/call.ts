// `ipc-state call`: calls an action with an input from the command line and prints its result.
import type { CommandContext } from '../command-context.js'
import { CliError, ExitCode } from '../exit-codes.js'
import { openClient } from '../open-client.js'
import { formatJson } from '../output.js'

/** Options of `ipc-state call`. */
export interface CallCommandOptions {
  /** The action's name. */
  action: string
  /** The action's input as JSON text; no input when left out. */
  input?: string
  /**
   * Print the result on one line instead of indented.
   * @default false
   */
  json?: boolean
}

/**
 * Reads a call's input from the command line: JSON, or nothing.
 * @throws CliError with `ExitCode.USAGE` when `text` is not JSON, saying how to quote it
 */
export function parseInput(text: string | undefined): unknown {
  if (text === undefined) return undefined
  try {
    return JSON.parse(text)
  } catch {
    const quoted = JSON.stringify(text)
    throw new CliError(
      `input ${quoted} is not JSON: give it as JSON, a string in double quotes inside shell quotes ('${quoted}')`,
      ExitCode.USAGE,
    )
  }
}

/**
 * `ipc-state call <action> [input]`: calls `action` with the input and prints what it returned, as
 * JSON. A failed call rejects with the server's `IpcStateError`, which the program prints as
 * `error: [CODE] message`.
 * @throws CliError with `ExitCode.USAGE` when the input is not JSON (before connecting)
 */
export async function runCall(context: CommandContext, options: CallCommandOptions): Promise<void> {
  const input = parseInput(options.input)
  const { output } = context
  await using client = await openClient({ address: context.address, clientId: context.clientId, timeout: context.timeout })
  const result = await client.call(options.action, input)
  output.line(formatJson(result, { compact: options.json === true, color: options.json !== true && output.color }))
}
