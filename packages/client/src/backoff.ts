// The wait between connection attempts: exponential backoff with jitter.
/** Computes the wait before connection attempt `attempt` (0 for the first retry). */
export type RetryDelay = (attempt: number) => number

/** Options for {@link exponentialBackoff}. */
export interface ExponentialBackoffOptions {
  /**
   * The wait before the first retry, in milliseconds.
   * @default 50
   */
  initial?: number
  /**
   * The longest wait, in milliseconds.
   * @default 2000
   */
  max?: number
  /**
   * How much of each wait is random, from 0 (none) to 1 (anywhere between 0 and the full wait).
   * Spreads the reconnects of many clients after a server restart.
   * @default 0.5
   */
  jitter?: number
}

/** Exponential backoff with jitter: `initial * 2^attempt`, capped at `max`. */
export function exponentialBackoff(options: ExponentialBackoffOptions = {}): RetryDelay {
  const { initial = 50, max = 2000, jitter = 0.5 } = options
  if (!(initial >= 0)) throw new TypeError(`initial must be a non-negative number, got ${String(initial)}`)
  if (!(max >= initial)) throw new TypeError(`max must be at least initial, got ${String(max)}`)
  if (!(jitter >= 0 && jitter <= 1)) throw new TypeError(`jitter must be between 0 and 1, got ${String(jitter)}`)
  return (attempt) => {
    const base = Math.min(max, initial * 2 ** Math.min(attempt, 30))
    return base * (1 - jitter * Math.random())
  }
}
