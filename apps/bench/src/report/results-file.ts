// Writes a run's report as latest.json and its chart as latest.svg.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { drawChart } from './chart.js'
import type { BenchReport } from '../run-bench.js'

/** Writes `report` to `<dir>/latest.json` and `<dir>/latest.svg`, and returns both paths. */
export function writeResults(dir: string, report: BenchReport): { json: string; svg: string } {
  mkdirSync(dir, { recursive: true })
  const json = join(dir, 'latest.json')
  const svg = join(dir, 'latest.svg')
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`)
  const { machine, settings } = report
  const subtitle =
    `${report.date.slice(0, 10)}, Node ${machine.node}, ${machine.cpus} cores, Redis ${report.redis ?? 'skipped'}; ` +
    `${settings.reps} interleaved samples of ${settings.durationMs} ms per side`
  writeFileSync(svg, drawChart(report.rows, subtitle))
  return { json, svg }
}
