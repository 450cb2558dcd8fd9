// Small checks the tests share: rejected promises, version sequences, sizes.

/** Runs `promise`, which must reject, and returns what it rejected with. */
export async function caught(promise: Promise<unknown>): Promise<Error & { code?: string; data?: unknown }> {
  try {
    await promise
  } catch (error) {
    return error as Error & { code?: string }
  }
  throw new Error('expected a rejection, but the promise resolved')
}

/** Describes how `versions` departs from `from + 1, from + 2, …, to`; `undefined` when it does not. */
export function versionProblems(versions: number[], from: number, to: number): string | undefined {
  if (versions.length === 0) return from === to ? undefined : `saw no version, expected ${from + 1}..${to}`
  const problems: string[] = []
  if (versions[0] !== from + 1) problems.push(`first ${versions[0]}, expected ${from + 1}`)
  for (let i = 1; i < versions.length; i++) {
    const step = versions[i]! - versions[i - 1]!
    if (step !== 1) problems.push(`${versions[i - 1]} -> ${versions[i]}`)
    if (problems.length > 10) break
  }
  if (versions.at(-1) !== to) problems.push(`last ${versions.at(-1)}, expected ${to}`)
  return problems.length === 0 ? undefined : problems.join('; ')
}

export const MiB = 1024 * 1024
/** `bytes` in MiB with one decimal, for the figures tests print. */
export const mib = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`
