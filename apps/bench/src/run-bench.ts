// A whole run: the scenarios asked for, one after the other, in one temporary folder, with Redis
// when redis-server is found; returns the report that main.ts prints and writes.
import { cpus, platform, release } from 'node:os'
import type { BenchOptions } from './cli.js'
import { findRedisServer } from './processes/redis-server.js'
import { buildRows, type Row, type ScenarioResult } from './report/rows.js'
import type { BenchSettings } from './scenario.js'
import { SCENARIOS } from './scenarios/index.js'
import { runScenario } from './run-scenario.js'
import type { TempFolder } from './processes/temp-folder.js'

/** Everything a run measured, as latest.json holds it. */
export interface BenchReport {
  date: string
  /** Wall-clock seconds of the whole run. */
  seconds: number
  machine: { node: string; platform: string; cpus: number; cpu: string }
  /** Redis's version, or null when Redis was left out. */
  redis: string | null
  settings: BenchSettings
  scenarios: ScenarioResult[]
  rows: Row[]
}

/** Runs the scenarios of `options` in `temp`; `log` gets every line of progress. */
export async function runBench(options: BenchOptions, temp: TempFolder, log: (line: string) => void): Promise<BenchReport> {
  const begin = performance.now()
  const redis = options.noRedis ? undefined : findRedisServer()
  if (redis === undefined) {
    log(
      options.noRedis
        ? 'Redis left out (--no-redis): its rows are skipped.'
        : 'redis-server not found on the PATH: Redis rows are skipped.',
    )
  } else
    log(`Redis ${redis.version} (${redis.binary}), ioredis, node:net and node-ipc against ipc-state; temporary folder ${temp.path}`)
  let names = 0
  const results: ScenarioResult[] = []
  for (const [index, id] of options.scenarios.entries()) {
    const make = SCENARIOS.find(([known]) => known === id)![1]
    const scenario = make(options.settings)
    log(`[${index + 1}/${options.scenarios.length}] ${scenario.title}`)
    const context = {
      settings: options.settings,
      temp,
      redisBinary: redis?.binary,
      uniqueName: (prefix: string) => `${prefix}-${++names}`,
      progress: log,
    }
    results.push(await runScenario(scenario, context, redis !== undefined))
  }
  return {
    date: new Date().toISOString(),
    seconds: (performance.now() - begin) / 1000,
    machine: {
      node: process.version,
      platform: `${platform()} ${release()}`,
      cpus: cpus().length,
      cpu: cpus()[0]?.model ?? 'unknown',
    },
    redis: redis?.version ?? null,
    settings: options.settings,
    scenarios: results,
    rows: buildRows(results),
  }
}
