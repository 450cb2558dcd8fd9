// The `ipc-state` program: its commands and options, run with the command line's arguments.
import { Command, CommanderError, InvalidArgumentError } from 'commander'
import { ADDRESS_ENV, DEFAULT_ADDRESS, resolveAddress, type AddressFlags } from './address.js'
import type { CommandContext } from './command-context.js'
import { runCall } from './commands/call.js'
import { runGet } from './commands/get.js'
import { runInspect } from './commands/inspect.js'
import { runPing } from './commands/ping.js'
import { runStats } from './commands/stats.js'
import { runWatch } from './commands/watch.js'
import { ExitCode } from './exit-codes.js'
import { createOutput, paint, type OutputStream } from './output.js'
import { reportError } from './report-error.js'

/** Options for {@link run}: where it reads and writes, for tests and embedding. */
export interface RunOptions {
  /** @default process.stdout */
  stdout?: OutputStream
  /** @default process.stderr */
  stderr?: OutputStream
  /** @default process.env */
  env?: NodeJS.ProcessEnv
  /**
   * Asks a running command to stop: `watch` and `inspect` then close what they opened and return 0.
   * @default a signal that never aborts
   */
  signal?: AbortSignal
}

interface GlobalFlags extends AddressFlags {
  timeout: number
  clientId?: string
}

const EXIT_CODES_HELP = `
Exit codes: 0 ok, 1 a call or connection error, 2 a usage error.
Address: ${DEFAULT_ADDRESS.socketRoot}${DEFAULT_ADDRESS.appspace}${DEFAULT_ADDRESS.id} unless the flags or ${Object.values(ADDRESS_ENV).join(', ')} say otherwise.`

/**
 * Runs `ipc-state` with the command-line arguments `args` (without node and the script) and
 * resolves with the exit code, having printed what the command printed. Never throws: every
 * failure is printed as one `error: …` line on stderr.
 *
 * @example
 * ```ts
 * process.exitCode = await run(process.argv.slice(2))
 * ```
 */
export async function run(args: readonly string[], options: RunOptions = {}): Promise<ExitCode> {
  const stdout = options.stdout ?? process.stdout
  const stderr = options.stderr ?? process.stderr
  const env = options.env ?? process.env
  const output = createOutput(stdout, stderr, env)
  const signal = options.signal ?? new AbortController().signal
  const program = createProgram((flags) => ({
    address: resolveAddress(flags, env),
    output,
    timeout: flags.timeout,
    signal,
    clientId: flags.clientId,
  }))
  for (const command of [program, ...program.commands]) {
    const help = command === program ? 'ipc-state --help' : `ipc-state ${command.name()} --help`
    command.configureOutput({
      writeOut: (text) => stdout.write(text),
      writeErr: (text) => stderr.write(text),
      // Commander's own errors (unknown option, missing argument) as one line that says where to look.
      outputError: (text, write) =>
        write(`${text.trimEnd().replace(/^error:/, paint('error:', 'red', output.errorColor))} (see ${help})\n`),
    })
  }
  try {
    // `pnpm ipc-state -- get` passes the `--` along.
    await program.parseAsync(args[0] === '--' ? args.slice(1) : [...args], { from: 'user' })
    return ExitCode.OK
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? ExitCode.OK : ExitCode.USAGE
    }
    return reportError(output, error)
  }
}

/**
 * The commander program of `ipc-state`, its commands each turning the global flags into a
 * {@link CommandContext} with `contextOf`. It throws instead of exiting (`exitOverride`).
 */
export function createProgram(contextOf: (flags: GlobalFlags) => CommandContext): Command {
  const program = new Command('ipc-state')
    .description(
      'Read, change, ping and watch the shared state of an ipc-state server, show its stats, and inspect it live in a browser.',
    )
    .option('--path <socket>', 'the socket file of the server; then --socket-root, --appspace and --id are not read')
    .option(
      '--socket-root <folder>',
      `the folder of the server's socket (env ${ADDRESS_ENV.socketRoot}, default ${DEFAULT_ADDRESS.socketRoot})`,
    )
    .option(
      '--appspace <name>',
      `the appspace the socket name starts with (env ${ADDRESS_ENV.appspace}, default ${DEFAULT_ADDRESS.appspace})`,
    )
    .option('--id <id>', `the server's id, the end of the socket name (env ${ADDRESS_ENV.id}, default ${DEFAULT_ADDRESS.id})`)
    .option('--client-id <id>', 'the client id actions see as context.clientId (default: ipc-state-cli- and a random part)')
    .option('--timeout <ms>', 'how long each request may wait, in milliseconds', parseTimeout, 10_000)
    .configureHelp({ showGlobalOptions: true })
    .addHelpText('after', EXIT_CODES_HELP)
    .exitOverride()
  const context = (command: Command): CommandContext => contextOf(command.optsWithGlobals<GlobalFlags>())

  program
    .command('get')
    .description('print the state, or the part of it at a dotted path such as messages.0.text')
    .argument('[path]', 'a dotted path into the state')
    .option('--json', 'plain JSON on one line')
    .action((path: string | undefined, flags: { json?: boolean }, command: Command) =>
      runGet(context(command), { ...flags, ...(path === undefined ? {} : { path }) }),
    )

  program
    .command('call')
    .description('call an action with a JSON input and print its result as JSON (a string input: \'"text"\')')
    .argument('<action>', 'the action to call')
    .argument('[input]', 'its input, as JSON (none when left out)')
    .option('--json', 'the result on one line')
    .action((action: string, input: string | undefined, flags: { json?: boolean }, command: Command) =>
      runCall(context(command), { ...flags, action, ...(input === undefined ? {} : { input }) }),
    )

  program
    .command('ping')
    .description("time one round trip to the server; print it with the server run's epoch and the state's version")
    .option('--json', 'one JSON object: path, ms, epoch, version')
    .action((flags: { json?: boolean }, command: Command) => runPing(context(command), flags))

  program
    .command('stats')
    .description("show the server's epoch, version, uptime, calls and changes counted, limits and connections")
    .option('--json', "the server's answer as one line of JSON")
    .action((flags: { json?: boolean }, command: Command) => runStats(context(command), flags))

  program
    .command('watch')
    .description('print the value, then each change as it happens with its action and client, until Ctrl-C')
    .argument('[path]', 'a dotted path into the state: only changes there')
    .option('--json', 'one JSON object per line: version, epoch, time, reason, action, clientId, value')
    .action((path: string | undefined, flags: { json?: boolean }, command: Command) =>
      runWatch(context(command), { ...flags, ...(path === undefined ? {} : { path }) }),
    )

  program
    .command('inspect')
    .description('serve a live page of the state, its changes and clients, with a form to call actions, until Ctrl-C')
    .option('--port <port>', 'the port on 127.0.0.1 (default: a free one)', parsePort)
    .addHelpText('after', "\nPrints the page's address, with its secret token, on stdout. Open it in a browser on this machine.")
    .action((flags: { port?: number }, command: Command) => runInspect(context(command), flags))

  return program
}

function parsePort(text: string): number {
  const value = Number(text)
  if (!/^\d+$/.test(text) || value > 65_535) throw new InvalidArgumentError('give a port from 0 to 65535')
  return value
}

function parseTimeout(text: string): number {
  const value = Number(text)
  if (text.trim() === '' || !(value > 0)) throw new InvalidArgumentError('give a number of milliseconds above 0, or Infinity')
  return value
}
