// `ipc-state actions`: lists the store's actions and what their inputs take, from the server's own description.
import type { ServerInfoAction } from '@ipc-state/client'
import type { CommandContext } from '../command-context.js'
import { CliError, ExitCode } from '../exit-codes.js'
import { openClient } from '../open-client.js'
import { paint, type Output } from '../output.js'
import { summarizeSchema } from '../schema-summary.js'

/** Options of `ipc-state actions`. */
export interface ActionsOptions {
  /**
   * Print `{ actions, actionCount }` as the server sent it, on one line of JSON, input schemas whole.
   * @default false
   */
  json?: boolean
}

/** Control characters (a terminal's escapes among them) as `\uXXXX`: a server's names are shown, never obeyed. */
export const printable = (text: string): string =>
  // biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters to escape
  text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`)

/** What an action takes, in one line. */
export function describeInput(action: ServerInfoAction): string {
  if (!action.hasInputSchema) return 'any input (no schema)'
  if (action.inputSchema !== undefined) return summarizeSchema(action.inputSchema)
  return action.inputSchemaOmitted === 'too-large'
    ? 'checked by a schema too large to list'
    : 'checked by a schema that gives no JSON Schema'
}

/**
 * `ipc-state actions`: asks the server for its actions (`server/info`) and prints one line each:
 * its name and what its input takes, summarized from the input's JSON Schema.
 * @throws CliError with {@link ExitCode.FAILED} when the server is too old to list its actions
 */
export async function runActions(context: CommandContext, options: ActionsOptions): Promise<void> {
  const { output } = context
  await using client = await openClient({ address: context.address, clientId: context.clientId, timeout: context.timeout })
  const info = await client.serverInfo()
  if (info.actions === undefined || info.actionCount === undefined) {
    throw new CliError(`the server at ${info.path} does not list its actions: it is older than this command`, ExitCode.FAILED)
  }
  if (options.json === true) {
    output.line(JSON.stringify({ actions: info.actions, actionCount: info.actionCount }))
    return
  }
  printActions(output, info.actions, info.actionCount)
}

function printActions(output: Output, actions: readonly ServerInfoAction[], actionCount: number): void {
  const names = actions.map((action) => printable(action.name))
  const width = Math.min(32, Math.max(0, ...names.map((name) => name.length)))
  for (const [index, action] of actions.entries()) {
    const name = names[index]!
    output.line(
      `${paint(name, 'bold', output.color)}${' '.repeat(Math.max(1, width - name.length + 2))}${printable(describeInput(action))}`,
    )
  }
  const shown = actions.length < actionCount ? ` (the first ${actions.length} shown)` : ''
  output.line(
    paint(
      `${actionCount} action${actionCount === 1 ? '' : 's'}${shown}; --json prints their input schemas whole`,
      'dim',
      output.color,
    ),
  )
}
