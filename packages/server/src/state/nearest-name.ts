// The action name a mistyped one most likely meant, for the suggestion an `UNKNOWN_ACTION` error carries.

/** Names longer than this get no suggestion: a typo is a short slip, and the search stays cheap. */
const MAX_SUGGESTED_LENGTH = 64

/** The most edits between a name and its suggestion. */
const MAX_EDITS = 3

/**
 * The edit distance (insertions, deletions, substitutions) between `a` and `b`, or `limit + 1`
 * when it is more than `limit`. Only cells within `limit` of the diagonal are computed, so a
 * comparison costs `a.length × (2 × limit + 1)` steps at most.
 */
export function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1
  const outside = limit + 1
  let previous = Array.from({ length: b.length + 1 }, (_, j) => (j <= limit ? j : outside))
  for (let i = 1; i <= a.length; i++) {
    const current = new Array<number>(b.length + 1).fill(outside)
    if (i <= limit) current[0] = i
    let best = current[0]!
    for (let j = Math.max(1, i - limit); j <= Math.min(b.length, i + limit); j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)
      current[j] = Math.min(substitution, previous[j]! + 1, current[j - 1]! + 1, outside)
      best = Math.min(best, current[j]!)
    }
    // Every later row is at least this row's best: past the limit, no path comes back under it.
    if (best > limit) return outside
    previous = current
  }
  return Math.min(previous[b.length]!, outside)
}

/**
 * The name among `names` nearest to `name`, ignoring case: within a third of its length in edits
 * (at least one, at most three), the first of equally near ones; `undefined` when none is that
 * near, or `name` is longer than 64 characters.
 *
 * @example
 * ```ts
 * nearestName('incremnt', ['addMessage', 'increment']) // 'increment'
 * ```
 */
export function nearestName(name: string, names: readonly string[]): string | undefined {
  if (name.length === 0 || name.length > MAX_SUGGESTED_LENGTH) return undefined
  const wanted = name.toLowerCase()
  let limit = Math.min(MAX_EDITS, Math.max(1, Math.floor(name.length / 3)))
  let nearest: string | undefined
  for (const candidate of names) {
    if (Math.abs(candidate.length - name.length) > limit) continue
    const distance = editDistance(wanted, candidate.toLowerCase(), limit)
    if (distance > limit || (nearest !== undefined && distance === limit)) continue
    nearest = candidate
    // Only a nearer name replaces it from now on.
    limit = distance
    if (distance === 0) break
  }
  return nearest
}
