/**
 * As a library: the program, the address rules, the output and the exit codes.
 * @module @ipc-state/cli
 */
export { run, createProgram } from './program.js'
export type { RunOptions } from './program.js'
export { ADDRESS_ENV, resolveAddress, socketPathOf } from './address.js'
export type { AddressFlags, ServerAddress } from './address.js'
export { CliError, ExitCode } from './exit-codes.js'
export type { CommandContext } from './command-context.js'
export { createOutput, formatJson, wantsColor } from './output.js'
export type { Output, OutputStream } from './output.js'
export { valueAtPath } from './value-path.js'
export { parseInput } from './commands/call.js'
export type { CallCommandOptions } from './commands/call.js'
export type { GetOptions } from './commands/get.js'
export type { PingOptions } from './commands/ping.js'
export type { StatsOptions } from './commands/stats.js'
export type { ActionsOptions } from './commands/actions.js'
export { summarizeSchema } from './schema-summary.js'
export type { WatchLine, WatchOptions, WatchReason } from './commands/watch.js'
export type { InspectOptions } from './commands/inspect.js'
