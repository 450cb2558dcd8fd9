// Whether a stored state still has the store's shape: a snapshot or a journal is only checksummed,
// and a file put there by hand, or damaged before its checksum was taken, must not be served.

/** The JSON kind of a value: `null`, `boolean`, `number`, `string`, `array` or `object`. */
function kindOf(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  return typeof value
}

/**
 * What makes `state` unlike the store's `initial` state, if anything. The rule, for a state of the
 * store version the server runs (an older one goes through the store's `migrate` instead):
 * - it is a plain object, as every initial state is;
 * - each key of the initial state, when the state holds it, holds a value of the same JSON kind
 *   (a counter that starts as a number stays a number, a list stays an array). `null`, on either
 *   side, matches any kind, since a store may start a key as `null` or set it to `null` later.
 *   Keys that actions added or removed are not checked.
 */
export function stateProblem(state: unknown, initial: Record<string, unknown>): string | undefined {
  const kind = kindOf(state)
  if (kind !== 'object') return `its state is ${kind === 'array' ? 'an array' : `a ${kind}`}, not an object as the store's is`
  for (const key of Object.keys(initial)) {
    const problem = keyProblem(state as Record<string, unknown>, initial, key)
    if (problem !== undefined) return problem
  }
  return undefined
}

/** What makes `state[key]` unlike `initial[key]`, if anything (see {@link stateProblem}). */
export function keyProblem(state: Record<string, unknown>, initial: Record<string, unknown>, key: string): string | undefined {
  if (!Object.hasOwn(state, key) || !Object.hasOwn(initial, key)) return undefined
  const want = kindOf(initial[key])
  const found = kindOf(state[key])
  if (want === found || want === 'null' || found === 'null') return undefined
  return `its state's ${JSON.stringify(key)} is of kind ${found}, where the store's initial state has ${want}`
}
