// Runs one scenario: starts its sides, measures them interleaved (A, B, C, A, B, C…), closes
// everything it started, and returns every sample.
import type { ScenarioResult, SideResult } from './report/rows.js'
import type { BenchContext, Scenario, SideRun } from './scenario.js'
import { formatFigure } from './report/stats.js'

/** What the harness gives a scenario run, besides the scenario. */
export type RunContext = Omit<BenchContext, 'defer'>

/** Runs `scenario`; a failure is reported in the result's `error`, with the samples taken before it. */
export async function runScenario(scenario: Scenario, base: RunContext, withRedis: boolean): Promise<ScenarioResult> {
  const closers: (() => unknown)[] = []
  const context: BenchContext = { ...base, defer: (close) => void closers.push(close) }
  const sides = scenario.sides().filter((side) => withRedis || (side.column !== 'redis' && scenario.needsRedis !== true))
  const results: SideResult[] = sides.map((side) => ({
    column: side.column,
    ...(side.variant === undefined ? {} : { variant: side.variant }),
    label: side.label,
    samples: [],
  }))
  const result: ScenarioResult = {
    id: scenario.id,
    title: scenario.title,
    metrics: scenario.metrics,
    ...(scenario.variants === undefined ? {} : { variants: scenario.variants }),
    sides: results,
  }
  if (sides.length === 0) {
    context.progress('  skipped: every side needs a redis-server (none on the PATH, or --no-redis)')
    return result
  }
  try {
    context.progress(`  starting ${sides.map((side) => side.label).join(', ')}`)
    // Started together: they are measured one at a time, but need not wait for each other to start.
    const started = await Promise.allSettled(sides.map((side) => side.start(context)))
    const failed = started.find((outcome) => outcome.status === 'rejected')
    if (failed !== undefined) throw failed.reason
    const runs = started.map((outcome) => (outcome as PromiseFulfilledResult<SideRun>).value)
    const reps = Math.min(context.settings.reps, scenario.maxReps ?? Number.POSITIVE_INFINITY)
    for (let rep = 1; rep <= reps; rep++) {
      for (const [i, run] of runs.entries()) {
        const sample = await run.measure()
        results[i]!.samples.push(sample)
        const figures = scenario.metrics
          .filter((metric) => sample[metric.id] !== undefined)
          .map((metric) => `${formatFigure(sample[metric.id]!)} ${metric.unit}`)
        context.progress(`  ${rep}/${reps} ${sides[i]!.label}: ${figures.join(', ')}`)
      }
    }
  } catch (error) {
    result.error = error instanceof Error ? (error.stack ?? error.message) : String(error)
    context.progress(`  FAILED: ${result.error}`)
  } finally {
    // All at once: each process closes what it opened when its stdin ends, clients and servers alike.
    const closed = await Promise.allSettled(closers.map(async (close) => close()))
    for (const outcome of closed) if (outcome.status === 'rejected') context.progress(`  while closing: ${String(outcome.reason)}`)
  }
  return result
}
