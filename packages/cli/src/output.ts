// Where a command writes, whether it may colour it, and how JSON is printed.
/** Where a command writes, and whether it may colour what it writes. */
export interface Output {
  /** Writes one line to stdout. */
  line(text: string): void
  /** Writes one line to stderr. */
  error(text: string): void
  /** Colour stdout: it is a terminal and `NO_COLOR` is not set. */
  readonly color: boolean
  /** Colour stderr, by the same rule. */
  readonly errorColor: boolean
}

/** A stream as far as {@link createOutput} needs one. */
export interface OutputStream {
  /** Writes `text` as it is. */
  write(text: string): unknown
  /** Whether it is a terminal, which may be coloured. */
  isTTY?: boolean
}

/**
 * Whether to colour `stream`: only a terminal, and never when `NO_COLOR` is set to anything but
 * the empty string (as no-color.org has it).
 */
export function wantsColor(stream: OutputStream, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === '')
}

/**
 * The {@link Output} of a process.
 * @default stdout process.stdout, stderr process.stderr, env process.env
 */
export function createOutput(
  stdout: OutputStream = process.stdout,
  stderr: OutputStream = process.stderr,
  env: NodeJS.ProcessEnv = process.env,
): Output {
  return {
    line: (text) => stdout.write(`${text}\n`),
    error: (text) => stderr.write(`${text}\n`),
    color: wantsColor(stdout, env),
    errorColor: wantsColor(stderr, env),
  }
}

const ANSI = { bold: 1, dim: 2, red: 31, green: 32, yellow: 33, blue: 34, cyan: 36 } as const

/** A colour {@link paint} knows. */
export type Style = keyof typeof ANSI

/** `text` in `style` when `enabled`, else unchanged. */
export function paint(text: string, style: Style, enabled: boolean): string {
  return enabled ? `\u001b[${ANSI[style]}m${text}\u001b[0m` : text
}

/**
 * `value` as JSON: on one line (`compact`) or indented by two spaces, coloured when `color`.
 * `undefined` (an action that returned nothing, a path with nothing at it) prints as `null`, so
 * the output is always JSON.
 */
export function formatJson(value: unknown, options: { compact?: boolean; color?: boolean } = {}): string {
  const text = JSON.stringify(value, null, options.compact === true ? undefined : 2) ?? 'null'
  if (options.color !== true) return text
  // Strings (keys followed by a colon), then numbers, booleans and null.
  return text.replace(
    /("(?:\\.|[^"\\])*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g,
    (match, string: string | undefined, colon: string | undefined, keyword: string | undefined, number: string | undefined) => {
      if (string !== undefined) return colon === undefined ? paint(string, 'green', true) : paint(string, 'cyan', true) + colon
      if (keyword !== undefined) return paint(keyword, 'blue', true)
      if (number !== undefined) return paint(number, 'yellow', true)
      return match
    },
  )
}

/** Prints `error: message` on stderr, then any `details` lines indented under it. */
export function printError(output: Output, message: string, details: readonly string[] = []): void {
  output.error(`${paint('error:', 'red', output.errorColor)} ${message}`)
  for (const line of details) output.error(`  ${line}`)
}
