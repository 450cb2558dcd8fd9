// Freezing a state parsed from JSON in place, checking as it goes that it holds nothing JSON would not carry.

type Container = Record<string, unknown> | unknown[]

const isContainer = (value: unknown): value is Container => typeof value === 'object' && value !== null

/**
 * Freezes `value` and everything in it, as `deepFreeze` does, unless it holds a number JSON has no
 * text for: JSON.parse reads `1e400` as Infinity, which a replica would receive as `null`. Such a
 * state is left for the caller to normalise (parts of it may be frozen already).
 * @returns whether it was all frozen
 */
export function freezeJson(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value)
  if (!isContainer(value)) return true
  const stack: Container[] = [value]
  while (stack.length > 0) {
    const node = stack.pop()!
    Object.freeze(node)
    for (const child of Object.values(node)) {
      if (typeof child === 'number' && !Number.isFinite(child)) return false
      if (isContainer(child) && !Object.isFrozen(child)) stack.push(child)
    }
  }
  return true
}
