// The part of a value at a dotted path, own properties only.
/**
 * The part of `value` at a dotted path such as `messages.0.text`; `undefined` where nothing is
 * there. An empty path is `value` itself. Only own properties count, so `constructor` or `length`
 * of an array do not resolve to something the state does not hold.
 */
export function valueAtPath(value: unknown, path: string | undefined): unknown {
  if (path === undefined || path === '') return value
  let current = value
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, key)) return undefined
    current = (current as Record<string, unknown>)[key]
  }
  return current
}
