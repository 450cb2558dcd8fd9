// Shared by this package's unit tests; not part of the build (its entries are under src/).

/** Runs `fn`, expecting it to throw, and returns what it threw. */
export function thrown(fn: () => unknown): unknown {
  try {
    fn()
  } catch (error) {
    return error
  }
  throw new Error('expected a throw')
}
