// The table's rows: for each scenario, metric and variant, every column's summary and its ratio to
// Redis, in the form the printed table, the chart and the JSON file share.
import type { Metric } from '../scenario.js'
import { type Summary, summarise } from './stats.js'
import type { SideKind } from '../workers/configs.js'

/** The columns, in the table's order. */
export const COLUMNS: readonly SideKind[] = ['ipc-state', 'net', 'node-ipc', 'redis']

/** How a column is named in the table. */
export const COLUMN_NAMES: Readonly<Record<SideKind, string>> = {
  'ipc-state': 'ipc-state',
  net: 'node:net',
  'node-ipc': 'node-ipc',
  redis: 'Redis 7',
}

/** What one side measured, sample by sample. */
export interface SideResult {
  column: SideKind
  variant?: string
  label: string
  samples: Record<string, number>[]
}

/** What one scenario measured. */
export interface ScenarioResult {
  id: string
  title: string
  metrics: readonly Metric[]
  variants?: Readonly<Record<string, string>>
  sides: SideResult[]
  /** Why the scenario did not finish, if it did not. */
  error?: string
}

/** One row of the table. */
export interface Row {
  scenario: string
  metric: string
  variant?: string
  label: string
  unit: string
  better: Metric['better']
  cells: Partial<Record<SideKind, Summary>>
  /** Per column but Redis: how many times better than Redis (above 1) or worse (below 1), by medians. */
  ratios: Partial<Record<SideKind, number>>
}

/** The rows of some scenarios' results. */
export function buildRows(results: readonly ScenarioResult[]): Row[] {
  const rows: Row[] = []
  for (const result of results) {
    const variants: (string | undefined)[] = result.variants === undefined ? [undefined] : Object.keys(result.variants)
    for (const metric of result.metrics) {
      for (const variant of variants) {
        const cells: Row['cells'] = {}
        for (const column of COLUMNS) {
          const side = result.sides.find((s) => s.column === column && (s.variant === variant || s.variant === undefined))
          const summary = side && summarise(side.samples.map((sample) => sample[metric.id]).filter((v) => v !== undefined))
          if (summary !== undefined) cells[column] = summary
        }
        if (Object.keys(cells).length === 0) continue
        const ratios: Row['ratios'] = {}
        const redis = cells.redis?.median
        for (const column of COLUMNS) {
          const median = cells[column]?.median
          if (column === 'redis' || median === undefined || redis === undefined || median === 0 || redis === 0) continue
          ratios[column] = metric.better === 'higher' ? median / redis : redis / median
        }
        const variantLabel = variant === undefined ? '' : `, ${result.variants![variant]}`
        rows.push({
          scenario: result.id,
          metric: metric.id,
          ...(variant === undefined ? {} : { variant }),
          label: `${metric.label}${variantLabel}`,
          unit: metric.unit,
          better: metric.better,
          cells,
          ratios,
        })
      }
    }
  }
  return rows
}
