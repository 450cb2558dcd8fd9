// How long stamped messages took to arrive: each message of a stamped `publish` is the wall-clock
// time it was sent, and a subscriber compares it with the wall clock when it arrives (processes on
// one machine share one clock).

/** What {@link LagRecorder.take} reports. */
export interface LagResult {
  /** Stamped messages counted. */
  count: number
  p50Us: number
  p99Us: number
}

/** Records the lag of every stamped message that arrives. */
export interface LagRecorder {
  /** Records `message`'s lag if it is a stamp; other messages are left alone. */
  record(message: string | undefined, arrivedAt: number): void
  /** The lags of messages stamped at `since` or later, recorded since the last take; forgets them all. */
  take(since: number): LagResult
}

/** A stamp is milliseconds since the epoch: anything smaller is some other message. */
const EARLIEST_STAMP = 1e12

/** Makes a recorder. */
export function createLagRecorder(): LagRecorder {
  let stamps: number[] = []
  let lags: number[] = []
  return {
    record(message, arrivedAt) {
      const stamp = Number(message)
      if (!(stamp > EARLIEST_STAMP)) return
      stamps.push(stamp)
      lags.push(arrivedAt - stamp)
    },
    take(since) {
      const kept = lags.filter((_, i) => stamps[i]! >= since).sort((a, b) => a - b)
      stamps = []
      lags = []
      const at = (q: number) => (kept[Math.min(kept.length - 1, Math.floor(q * kept.length))] ?? Number.NaN) * 1000
      return { count: kept.length, p50Us: at(0.5), p99Us: at(0.99) }
    },
  }
}
