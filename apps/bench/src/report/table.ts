// The table of a run, as Markdown: readable in a terminal and pasted as is into the README.
import { COLUMN_NAMES, COLUMNS, type Row } from './rows.js'
import { formatFigure, formatRatio, type Summary } from './stats.js'

const RATIO_COLUMNS = COLUMNS.filter((column) => column !== 'redis')

function cell(summary: Summary | undefined): string {
  if (summary === undefined) return '–'
  if (summary.n === 1) return formatFigure(summary.median)
  return `${formatFigure(summary.median)} (${formatFigure(summary.min)}–${formatFigure(summary.max)})`
}

/**
 * The rows as a Markdown table: each figure is the median with the minimum and maximum in
 * brackets; each ratio says how many times better than Redis a column did (below 1: worse).
 */
export function formatTable(rows: readonly Row[]): string {
  const header = [
    'row',
    'unit',
    ...COLUMNS.map((column) => COLUMN_NAMES[column]),
    ...RATIO_COLUMNS.map((c) => `${COLUMN_NAMES[c]} vs Redis`),
  ]
  const lines = rows.map((row) => [
    row.label,
    `${row.unit} (${row.better === 'higher' ? 'more' : 'less'} is better)`,
    ...COLUMNS.map((column) => cell(row.cells[column])),
    ...RATIO_COLUMNS.map((column) => {
      const ratio = row.ratios[column]
      return ratio === undefined ? '–' : formatRatio(ratio)
    }),
  ])
  const widths = header.map((title, i) => Math.max(title.length, ...lines.map((line) => line[i]!.length)))
  const format = (line: string[]) => `| ${line.map((text, i) => text.padEnd(widths[i]!)).join(' | ')} |`
  return [format(header), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...lines.map(format)].join('\n')
}
