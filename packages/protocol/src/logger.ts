// The logger shape server and client take, and adapters that make pino and the console fit it.
/**
 * A logger in the usual `debug/info/warn/error` shape, each method taking a message and then an
 * object of details. `console` fits as it is (it prints the details as an inspected object), and so
 * does winston; for pino, whose methods take the object first, wrap it in {@link pinoLogger}; for one
 * JSON line per entry on a console, use {@link consoleLogger}. Every method is optional; ipc-state is
 * silent unless given one.
 */
export interface Logger {
  /** Detail for tracing: each status change, connection error and failed action. */
  debug?(message: string, details?: Record<string, unknown>): void
  /** A step in the life of a server or client: listening, loaded from storage, resyncing, closed. */
  info?(message: string, details?: Record<string, unknown>): void
  /** Something went wrong that the library got over: a peer that misbehaved, a journal cut by a crash. */
  warn?(message: string, details?: Record<string, unknown>): void
  /** Something went wrong that the library could not mend: a listener that threw, a failed write to disk. */
  error?(message: string, details?: Record<string, unknown>): void
}

/** The levels of a {@link Logger}, from the most detailed to the most severe. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error']

/**
 * What {@link pinoLogger} needs of a pino logger: its four level methods, which take the merging
 * object first and the message second. A pino `Logger` or any of its children fits.
 */
export interface PinoLikeLogger {
  /** Logs at level `debug`: the details first, then the message. */
  debug(mergingObject: Record<string, unknown>, message: string): void
  /** Logs at level `info`: the details first, then the message. */
  info(mergingObject: Record<string, unknown>, message: string): void
  /** Logs at level `warn`: the details first, then the message. */
  warn(mergingObject: Record<string, unknown>, message: string): void
  /** Logs at level `error`: the details first, then the message. */
  error(mergingObject: Record<string, unknown>, message: string): void
}

/**
 * Turns a pino logger into a {@link Logger}: the details become pino's merging object, so each field
 * is a property of the JSON line, and the message becomes its `msg`. Handing pino itself to ipc-state
 * would lose the details, since pino reads a second argument as a value for the message's `%s`
 * placeholders. Which levels are written stays pino's choice, including changes to its `level` later.
 *
 * @param pino a pino logger, or a child of one: `pino()`, `pino({ level: 'debug' })`, `app.log.child({ module: 'state' })`
 * @throws TypeError when `pino` lacks one of `debug`, `info`, `warn` and `error`
 * @example
 * ```ts
 * import pino from 'pino'
 * import { createServer, pinoLogger } from '@ipc-state/server'
 *
 * const server = await createServer({ store, id: 'state', logger: pinoLogger(pino()) })
 * // {"level":30,"time":…,"path":"/run/user/1000/ipc-state/app.state","epoch":"…","msg":"listening"}
 * ```
 */
export function pinoLogger(pino: PinoLikeLogger): Logger {
  for (const level of LOG_LEVELS) {
    if (typeof pino?.[level] !== 'function') throw new TypeError(`pinoLogger: pino.${level} must be a function`)
  }
  // Looked up on every call rather than once: pino swaps a level's method when its level changes.
  return {
    debug: (message, details) => pino.debug(details ?? {}, message),
    info: (message, details) => pino.info(details ?? {}, message),
    warn: (message, details) => pino.warn(details ?? {}, message),
    error: (message, details) => pino.error(details ?? {}, message),
  }
}

/** What {@link consoleLogger} needs of a console: one method per level that takes a line of text. */
export interface ConsoleLike {
  /** Prints a line of level `debug`. */
  debug(line: string): void
  /** Prints a line of level `info`. */
  info(line: string): void
  /** Prints a line of level `warn`. */
  warn(line: string): void
  /** Prints a line of level `error`. */
  error(line: string): void
}

/** Options for {@link consoleLogger}. */
export interface ConsoleLoggerOptions {
  /**
   * The least severe level printed. The logger returned has no method for the levels below it, so
   * ipc-state does not even build their details.
   * @default 'info'
   */
  level?: LogLevel
}

/**
 * A {@link Logger} that prints one line per entry, `message {"json":"details"}`, through the
 * console method of the same level (`console.warn` for a warning). Details that JSON cannot hold do
 * not stop the line: a BigInt prints as its digits, an `Error` as its name and message, a cycle as
 * `"[Circular]"`; a log call never throws, even when the console does.
 *
 * @param console where the lines go: any object with `debug`, `info`, `warn` and `error`; when
 * omitted, `globalThis.console`
 * @throws TypeError when `options.level` is not a level, or `console` lacks the method of a level printed
 * @example
 * ```ts
 * import { connect, consoleLogger } from '@ipc-state/client'
 *
 * const client = await connect<typeof store>({ id: 'state', logger: consoleLogger(console, { level: 'debug' }) })
 * // status {"status":"connected","path":"/run/user/1000/ipc-state/app.state"}
 * ```
 */
export function consoleLogger(
  console: ConsoleLike = (globalThis as unknown as { console: ConsoleLike }).console,
  options: ConsoleLoggerOptions = {},
): Logger {
  const { level = 'info' } = options
  const from = LOG_LEVELS.indexOf(level)
  if (from === -1) throw new TypeError(`consoleLogger: level must be one of ${LOG_LEVELS.join(', ')}, not ${String(level)}`)
  const logger: Logger = {}
  for (const printed of LOG_LEVELS.slice(from)) {
    if (typeof console?.[printed] !== 'function') throw new TypeError(`consoleLogger: console.${printed} must be a function`)
    logger[printed] = (message, details) => {
      try {
        console[printed](formatLine(message, details))
      } catch {
        // A log line is never worth breaking the server or client that writes it.
      }
    }
  }
  return logger
}

/** `message`, then the details as JSON when there are any. */
function formatLine(message: string, details: Record<string, unknown> | undefined): string {
  if (details === undefined) return message
  let json: string | undefined
  try {
    json = JSON.stringify(details, jsonSafeReplacer())
  } catch {
    // A getter or toJSON that throws, or nesting deeper than the stack.
    json = '"[details could not be printed]"'
  }
  return json === undefined || json === '{}' ? message : `${message} ${json}`
}

/**
 * A `JSON.stringify` replacer for values JSON refuses: BigInts, cycles, and errors (whose fields are
 * not enumerable, so they would print as `{}`). Only true cycles are cut: an object seen twice side
 * by side prints twice.
 */
function jsonSafeReplacer(): (this: unknown, key: string, value: unknown) => unknown {
  // The objects being printed, outermost first, each with what it was printed as.
  const path: { original: object; printed: object }[] = []
  return function (this: unknown, _key: string, value: unknown): unknown {
    if (typeof value === 'bigint') return value.toString()
    if (typeof value !== 'object' || value === null) return value
    // `this` is the object holding `value`: whatever lies deeper on the path has been printed already.
    while (path.length > 0 && path[path.length - 1]!.printed !== this) path.pop()
    if (path.some((entry) => entry.original === value)) return '[Circular]'
    const printed = value instanceof Error ? errorFields(value) : value
    path.push({ original: value, printed })
    return printed
  }
}

/** An error's name, message and cause, which JSON leaves out as they are not enumerable, then its own fields. */
function errorFields(error: Error): object {
  const fields: Record<string, unknown> = { name: error.name, message: error.message }
  if (error.cause !== undefined) fields.cause = error.cause
  return Object.assign(fields, error)
}
