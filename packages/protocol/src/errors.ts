// The one error class, its stable codes, and its form on the wire.
/**
 * Stable error codes. The string values are part of the public contract and never change meaning.
 */
export const ErrorCode = {
  /** No server answered at the socket path within the allowed connection attempts. */
  SERVER_UNAVAILABLE: 'SERVER_UNAVAILABLE',
  /** The connection dropped while the request was in flight. */
  CONNECTION_CLOSED: 'CONNECTION_CLOSED',
  /** The client was closed by its owner; pending requests were abandoned. */
  CLIENT_CLOSED: 'CLIENT_CLOSED',
  /** The server is shutting down and did not take the request. */
  SERVER_CLOSING: 'SERVER_CLOSING',
  /** The request got no answer within its timeout. */
  TIMEOUT: 'TIMEOUT',
  /** The caller's `AbortSignal` fired. */
  ABORTED: 'ABORTED',
  /** Client and server speak incompatible protocol versions. */
  PROTOCOL_MISMATCH: 'PROTOCOL_MISMATCH',
  /** A frame was not a valid message (bad JSON, wrong shape, unknown type). */
  BAD_REQUEST: 'BAD_REQUEST',
  /** A frame exceeded the configured maximum size. */
  FRAME_TOO_LARGE: 'FRAME_TOO_LARGE',
  /** The store has no action of that name. */
  UNKNOWN_ACTION: 'UNKNOWN_ACTION',
  /** The action's input failed its schema. The action did not run. */
  BAD_ARGUMENTS: 'BAD_ARGUMENTS',
  /** The action threw. State and version are unchanged. */
  ACTION_FAILED: 'ACTION_FAILED',
  /** The connection has too many requests in flight. */
  TOO_MANY_REQUESTS: 'TOO_MANY_REQUESTS',
  /** The server has reached its connection limit. */
  TOO_MANY_CONNECTIONS: 'TOO_MANY_CONNECTIONS',
  /** The connection did not read its messages fast enough and was dropped. */
  SLOW_CONSUMER: 'SLOW_CONSUMER',
  /** A live server already listens at the socket path. */
  ADDRESS_IN_USE: 'ADDRESS_IN_USE',
  /** The socket path is longer than the platform allows. */
  PATH_TOO_LONG: 'PATH_TOO_LONG',
  /** The socket folder is owned by another user or writable by others. */
  UNSAFE_SOCKET_ROOT: 'UNSAFE_SOCKET_ROOT',
  /** Something other than a socket exists at the socket path. */
  NOT_A_SOCKET: 'NOT_A_SOCKET',
  /** The server could not listen at the socket path. */
  LISTEN_FAILED: 'LISTEN_FAILED',
  /**
   * A resent action call may or may not have been applied: the server's record of its answer is
   * gone. Not retryable: read the state to find out before calling again.
   */
  OUTCOME_UNKNOWN: 'OUTCOME_UNKNOWN',
  /**
   * The socket at the path belongs to another user (not this process's user, not root): the
   * client sent nothing to it.
   */
  FOREIGN_SERVER: 'FOREIGN_SERVER',
  /**
   * The server could not write the call's change to its storage (a full disk, an I/O error): the
   * change was not applied, and the state did not move. The server keeps serving reads and takes
   * changes again once its storage writes again.
   */
  PERSIST_FAILED: 'PERSIST_FAILED',
  /**
   * The shared store the server keeps its state in (Redis, see `@ipc-state/redis`) could not be
   * reached, or refused the server. The server keeps serving reads, and takes changes again by itself
   * once the store answers. The call's change was not applied, unless the store went away right
   * after storing it and before answering: then it was, and every server shows it once the store
   * is back (read the state to find out where that matters).
   */
  BACKEND_UNAVAILABLE: 'BACKEND_UNAVAILABLE',
  /** Another server that still runs owns the data folder the server was asked to use. */
  STORE_LOCKED: 'STORE_LOCKED',
  /**
   * A file in the data folder is damaged in a way the server will not guess past (a bad checksum
   * before the last record, a record length no server could write, an unknown format, a snapshot
   * that does not parse, a symbolic link, a state unlike the store's). The server did not
   * start, and left the file as it was; `data` names the file and the offset.
   * A shared store in Redis that holds what the server did not write or cannot take (an entry
   * another program added, a change that does not apply, a store flushed and made again): `data`
   * names the key (and the entry); a running server refuses changes from then on, serving reads.
   */
  STORE_DAMAGED: 'STORE_DAMAGED',
  /**
   * The data folder (or the shared store) was written by a newer version of the store than the
   * server runs; a running server whose shared store was migrated refuses changes from then on.
   */
  STORE_TOO_NEW: 'STORE_TOO_NEW',
  /** An unexpected failure inside the library. */
  INTERNAL_ERROR: 'INTERNAL_ERROR',
} as const

/** One of the {@link ErrorCode} values. */
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

/**
 * Codes for which trying the same operation again later may succeed. An action call that failed
 * with one of these may or may not have been applied, unless the code is `SERVER_UNAVAILABLE`,
 * `TOO_MANY_REQUESTS` or `TOO_MANY_CONNECTIONS`, which mean it was never taken, or
 * `PERSIST_FAILED`, which means it was not applied (`BACKEND_UNAVAILABLE` almost always means that too:
 * see there).
 * `OUTCOME_UNKNOWN` is left out on purpose: calling again blindly could apply a change twice.
 */
export const RETRYABLE_ERROR_CODES: readonly ErrorCode[] = Object.freeze([
  ErrorCode.SERVER_UNAVAILABLE,
  ErrorCode.CONNECTION_CLOSED,
  ErrorCode.SERVER_CLOSING,
  ErrorCode.TOO_MANY_REQUESTS,
  ErrorCode.TOO_MANY_CONNECTIONS,
  ErrorCode.PERSIST_FAILED,
  ErrorCode.BACKEND_UNAVAILABLE,
])

const errorCodes = new Set<string>(Object.values(ErrorCode))

/** Returns whether `code` is one of the {@link ErrorCode} values. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && errorCodes.has(code)
}

/** Returns whether an operation that failed with `code` may succeed if tried again. */
export function isRetryable(code: ErrorCode): boolean {
  return RETRYABLE_ERROR_CODES.includes(code)
}

/** The form an error takes on the wire. */
export interface WireError {
  code: ErrorCode
  message: string
  data?: unknown
}

/** Options for {@link IpcStateError}. */
export interface IpcStateErrorOptions {
  /** The underlying error, if any. */
  cause?: unknown
  /** Structured details (for example the issues a schema reported). Sent over the wire. */
  data?: unknown
}

/**
 * The one error class of ipc-state. `code` is stable; `message` is for people.
 *
 * @example
 * ```ts
 * try { await client.actions.increment(1) }
 * catch (e) { if (isIpcStateError(e) && e.retryable) retryLater() }
 * ```
 */
export class IpcStateError extends Error {
  override readonly name = 'IpcStateError'
  readonly code: ErrorCode
  readonly data: unknown

  constructor(code: ErrorCode, message: string, options: IpcStateErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.data = options.data
  }

  /** Whether trying again later may succeed (see {@link RETRYABLE_ERROR_CODES}). */
  get retryable(): boolean {
    return isRetryable(this.code)
  }

  /** The wire form: code, message and data; never the stack. */
  toWire(): WireError {
    return this.data === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, data: this.data }
  }
}

/**
 * Whether `value` is an {@link IpcStateError}. Checks the name and code as well as the class, so
 * errors from another loaded copy of the package are recognised.
 */
export function isIpcStateError(value: unknown): value is IpcStateError {
  if (value instanceof IpcStateError) return true
  return value instanceof Error && value.name === 'IpcStateError' && isErrorCode((value as { code?: unknown }).code)
}

function describe(value: unknown): string {
  try {
    return String(value)
  } catch {
    // An object without a prototype, or whose toString throws.
    return Object.prototype.toString.call(value)
  }
}

/** Wraps anything thrown into an {@link IpcStateError}, keeping an existing one as it is. */
export function toIpcStateError(value: unknown, code: ErrorCode = ErrorCode.INTERNAL_ERROR): IpcStateError {
  if (isIpcStateError(value)) return value
  const message = value instanceof Error ? value.message : describe(value)
  return new IpcStateError(code, message, { cause: value })
}

/** Turns a wire error back into an {@link IpcStateError}. Unknown codes become `INTERNAL_ERROR`. */
export function errorFromWire(wire: WireError): IpcStateError {
  const code = isErrorCode(wire.code) ? wire.code : ErrorCode.INTERNAL_ERROR
  return new IpcStateError(code, wire.message, wire.data === undefined ? {} : { data: wire.data })
}
