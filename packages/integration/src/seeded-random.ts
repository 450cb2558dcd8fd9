// Random choices a test can replay: every draw comes from one seed, which the test prints on failure.
import { onTestFailed } from 'vitest'

/**
 * A seed for the running test: `IPC_STATE_SEED` when set (to replay a failure), otherwise a fresh
 * one. Printed, with how to replay it, if the test fails.
 */
export function testSeed(env: NodeJS.ProcessEnv = process.env): number {
  const given = env.IPC_STATE_SEED
  const seed = given === undefined ? Math.floor(Math.random() * 2 ** 32) : Number(given) >>> 0
  onTestFailed(({ task }) => console.error(`${task.name}: seed ${seed}; replay with IPC_STATE_SEED=${seed}`))
  return seed
}

/** Numbers in [0, 1) from `seed` (mulberry32): the same seed draws the same numbers. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
}

/** A whole number in [min, max), drawn from `random`. */
export function randomInt(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min))
}
