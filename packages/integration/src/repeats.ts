// How many times a randomized test repeats its trial: the figure it states, or a share of it.

/**
 * `count`, scaled by `IPC_STATE_REPEAT_SCALE` (a number in (0, 1], default 1) and never below
 * `floor`. A second CI pass on another Node.js version sets it to run every test with fewer random
 * trials; a run without it makes every trial the test names.
 * @throws TypeError when `IPC_STATE_REPEAT_SCALE` is not a number in (0, 1]
 */
export function repeats(count: number, floor = 10, env: NodeJS.ProcessEnv = process.env): number {
  const given = env.IPC_STATE_REPEAT_SCALE
  if (given === undefined || given === '') return count
  const scale = Number(given)
  if (!(scale > 0 && scale <= 1))
    throw new TypeError(`IPC_STATE_REPEAT_SCALE must be a number in (0, 1], not ${JSON.stringify(given)}`)
  return Math.max(Math.min(floor, count), Math.round(count * scale))
}
