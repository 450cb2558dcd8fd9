// Prints what ended a command, and picks its exit code.
import { ErrorCode, isIpcStateError } from '@ipc-state/client'
import { CliError, ExitCode } from './exit-codes.js'
import { printError, type Output } from './output.js'

/** A schema issue as the server sends it with `BAD_ARGUMENTS`. */
interface WireIssue {
  message: string
  path?: (string | number)[]
}

/**
 * Prints what ended a command and returns the exit code for it: a {@link CliError}'s own, and
 * {@link ExitCode.FAILED} for anything else. An ipc-state error prints as `[CODE] message`; a
 * `BAD_ARGUMENTS` one lists its input's issues under it.
 */
export function reportError(output: Output, error: unknown): ExitCode {
  if (error instanceof CliError) {
    printError(output, error.message, error.details)
    return error.exitCode
  }
  if (isIpcStateError(error)) {
    const details = error.code === ErrorCode.BAD_ARGUMENTS ? issueLines(error.data) : []
    printError(output, `[${error.code}] ${error.message}`, details)
    return ExitCode.FAILED
  }
  printError(output, error instanceof Error ? error.message : String(error))
  return ExitCode.FAILED
}

/** One issue of a `BAD_ARGUMENTS` error, as a person reads it. */
export interface InputIssue {
  /** Where in the input: `input` for the whole of it, `input.a.0` deeper. */
  where: string
  message: string
}

/**
 * The issues a `BAD_ARGUMENTS` error's `data` carries, and how many more the server left out;
 * none for data of any other shape.
 */
export function inputIssues(data: unknown): { issues: InputIssue[]; more: number } {
  const issues = (data as { issues?: unknown } | undefined)?.issues
  if (!Array.isArray(issues)) return { issues: [], more: 0 }
  const more = (data as { more?: unknown }).more
  return {
    issues: issues.filter(isWireIssue).map((issue) => ({
      where: issue.path === undefined || issue.path.length === 0 ? 'input' : `input.${issue.path.join('.')}`,
      message: issue.message,
    })),
    more: typeof more === 'number' && more > 0 ? more : 0,
  }
}

/** One line per issue: where in the input (`input` for the whole of it), then what is wrong. */
export function issueLines(data: unknown): string[] {
  const { issues, more } = inputIssues(data)
  const lines = issues.map((issue) => `- ${issue.where}: ${issue.message}`)
  if (more > 0) lines.push(`- and ${more} more`)
  return lines
}

function isWireIssue(value: unknown): value is WireIssue {
  return typeof value === 'object' && value !== null && typeof (value as WireIssue).message === 'string'
}
