// The exit codes of `ipc-state`, and the error that ends a command with one.
/** The exit codes of `ipc-state`, as its README lists them. */
export const ExitCode = Object.freeze({
  /** The command did what it was asked. */
  OK: 0,
  /** A call failed, or the server could not be reached or was lost. */
  FAILED: 1,
  /** The command line was wrong: an unknown command or option, a missing argument, input that is not JSON. */
  USAGE: 2,
} as const)

/** One of {@link ExitCode}'s values. */
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode]

/** An error that ends the command with its message on stderr and `exitCode`. */
export class CliError extends Error {
  override readonly name = 'CliError'
  /**
   * @param message one line saying what went wrong and what to do
   * @param exitCode the process's exit code
   * @param details further lines printed under the message (say a schema's issues)
   */
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    readonly details: readonly string[] = [],
  ) {
    super(message)
  }
}
