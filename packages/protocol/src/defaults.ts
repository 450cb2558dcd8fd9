// Every limit and default that protocol, server and client share, and the check of a numeric option.
/**
 * Every limit and default of the protocol, its server and its clients, declared once. The server
 * and client option docs name these values.
 */
export const Defaults = {
  /** The largest frame a server accepts from a client, in bytes of UTF-8. */
  MAX_FRAME_BYTES: 16 * 1024 * 1024,
  /** The largest frame a client accepts from its server (a snapshot of the whole state is one). */
  CLIENT_MAX_FRAME_BYTES: 256 * 1024 * 1024,
  /** How deeply a client's message may nest. */
  MAX_DEPTH: 64,
  /** Longest action name, client id, instance id and epoch, in characters. */
  MAX_NAME_LENGTH: 256,
  /** Connections a server serves at once. */
  MAX_CONNECTIONS: 1024,
  /** Requests one connection may have unanswered (server), or sent and unanswered (client). */
  MAX_IN_FLIGHT: 1024,
  /** Bytes that may queue for one connection that does not read. */
  MAX_BUFFERED_BYTES: 64 * 1024 * 1024,
  /** Answered calls remembered per client instance. */
  DEDUP_WINDOW: 1024,
  /** Client instances whose answered calls are remembered. */
  MAX_REMEMBERED_CLIENTS: 1024,
  /**
   * How long a client instance that lost its connection keeps its record of answered calls before
   * it may be forgotten to make room, in milliseconds.
   */
  ANSWER_GRACE_MS: 60_000,
  /**
   * How long a client instance whose connection was lost (or that was present when its server
   * stopped) may take to come back before the server runs `onClientLeave` for it, in milliseconds:
   * more than two of a client's longest waits between reconnects (2 s by default).
   */
  LEAVE_GRACE_MS: 5_000,
  /** How long a client request may wait, in milliseconds. */
  TIMEOUT_MS: 10_000,
  /** Connection attempts before `connect` gives up. */
  CONNECT_ATTEMPTS: 10,
} as const

/** What {@link numberOption} accepts. */
export interface NumberOptionRule {
  /** The value when the option is `undefined`. */
  fallback: number
  /** The smallest value accepted. */
  min: number
  /** Whether only integers are accepted. @default true */
  integer?: boolean
  /** Whether `Infinity` is accepted, meaning "no limit". @default false */
  infinity?: boolean
}

/**
 * Checks one numeric option and returns it, or its fallback when it is `undefined`.
 * @throws TypeError naming the option and what it must be
 */
export function numberOption(name: string, value: unknown, rule: NumberOptionRule): number {
  if (value === undefined) return rule.fallback
  const integer = rule.integer ?? true
  const ok =
    typeof value === 'number' &&
    value >= rule.min &&
    (value === Number.POSITIVE_INFINITY ? rule.infinity === true : integer ? Number.isSafeInteger(value) : Number.isFinite(value))
  if (!ok) {
    const kind = integer ? `an integer of at least ${rule.min}` : `a number of at least ${rule.min}`
    throw new TypeError(`${name} must be ${kind}${rule.infinity === true ? ' or Infinity' : ''}, got ${String(value)}`)
  }
  return value
}
