// Summaries of a side's samples and how figures are written.

/** Median, minimum and maximum of some samples. */
export interface Summary {
  median: number
  min: number
  max: number
  /** Samples summarised. */
  n: number
}

/** Summarises `values`, or undefined when there is none. */
export function summarise(values: readonly number[]): Summary | undefined {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b)
  if (sorted.length === 0) return undefined
  const middle = sorted.length >> 1
  const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
  return { median, min: sorted[0]!, max: sorted.at(-1)!, n: sorted.length }
}

/** A figure in three significant digits, with k or M past ten thousand: 123, 12.3k, 4.56M. */
export function formatFigure(value: number): string {
  const abs = Math.abs(value)
  if (abs >= 1e9) return `${(value / 1e9).toPrecision(3)}G`
  if (abs >= 1e6) return `${(value / 1e6).toPrecision(3)}M`
  if (abs >= 1e4) return `${(value / 1e3).toPrecision(3)}k`
  // 999.6 would read 1.00e+3 in three digits
  if (abs >= 999.5) return Math.round(value).toString()
  return value.toPrecision(3)
}

/** A ratio as `1.23×`, `0.456×` or `1234×`. */
export function formatRatio(ratio: number): string {
  return `${ratio >= 999.5 ? Math.round(ratio).toString() : ratio.toPrecision(3)}×`
}
