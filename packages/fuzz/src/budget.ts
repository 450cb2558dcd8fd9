// How much each property runs, from which seed, and which properties are left out while they fail.
import type fc from 'fast-check'
import { it } from 'vitest'

/** The seed every property starts from unless `IPC_STATE_SEED` gives another: CI runs the same inputs each time. */
export const DEFAULT_SEED = 20_261_207

function positiveNumber(name: string, fallback: number, env: NodeJS.ProcessEnv): number {
  const given = env[name]
  if (given === undefined || given === '') return fallback
  const value = Number(given)
  if (!(value > 0) || !Number.isFinite(value))
    throw new TypeError(`${name} must be a positive number, not ${JSON.stringify(given)}`)
  return value
}

/**
 * The settings of one run of the harness, from the environment:
 * - `IPC_STATE_FUZZ_RUNS`: a factor on every property's run count (default 1; 100 for a long run);
 * - `IPC_STATE_REPEAT_SCALE`: a share of it in (0, 1], as CI's second pass on another Node.js sets;
 * - `IPC_STATE_SEED`: the seed (default {@link DEFAULT_SEED});
 * - `IPC_STATE_FUZZ_PATH`: with the seed, replays one counterexample that a failure printed.
 */
export function fuzzSettings(env: NodeJS.ProcessEnv = process.env) {
  const factor = positiveNumber('IPC_STATE_FUZZ_RUNS', 1, env)
  const scale = positiveNumber('IPC_STATE_REPEAT_SCALE', 1, env)
  if (scale > 1) throw new TypeError('IPC_STATE_REPEAT_SCALE must be a number in (0, 1]')
  const seedText = env.IPC_STATE_SEED
  const seed = seedText === undefined || seedText === '' ? DEFAULT_SEED : Number(seedText) | 0
  const path = env.IPC_STATE_FUZZ_PATH || undefined
  return { factor: factor * scale, seed, path }
}

const settings = fuzzSettings()

/**
 * fast-check's parameters for a property that names `runs` as its run count at the default budget,
 * with `more` of its own (`endOnFailure` where each failing run waits out a deadline, say).
 */
export function params<T>(runs: number, more: fc.Parameters<T> = {}): fc.Parameters<T> {
  const numRuns = Math.max(1, Math.round(runs * settings.factor))
  return {
    ...more,
    seed: settings.seed,
    numRuns,
    ...(settings.path === undefined ? {} : { path: settings.path, endOnFailure: true }),
  }
}

/** Declares one property as its own test. A failure prints the command that replays its counterexample. */
export function property(name: string, body: () => Promise<void> | void, timeout?: number): void {
  it(
    name,
    async () => {
      try {
        await body()
      } catch (error) {
        const found = /seed: (-?\d+), path: "([^"]*)"/.exec(String((error as Error).message))
        if (found !== null) {
          console.error(
            `replay: IPC_STATE_SEED=${found[1]} IPC_STATE_FUZZ_PATH=${found[2]} npx vitest run -t ${JSON.stringify(name)}`,
          )
        }
        throw error
      }
    },
    // A bigger budget takes longer: the test's time limit grows with it.
    timeout ?? 120_000 * Math.max(1, settings.factor),
  )
}
