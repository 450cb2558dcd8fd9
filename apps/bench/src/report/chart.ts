// The ratios of a run as an SVG bar chart: one group of bars per row, on a log scale around 1×
// (as good as Redis), to the right where a column did better than Redis and to the left where worse.
import { COLUMN_NAMES, type Row } from './rows.js'
import { formatRatio } from './stats.js'
import type { SideKind } from '../workers/configs.js'

const BARS: readonly { column: SideKind; color: string }[] = [
  { column: 'ipc-state', color: '#2563eb' },
  { column: 'net', color: '#9ca3af' },
  { column: 'node-ipc', color: '#f59e0b' },
]
const PLOT_WIDTH = 540
const BAR = 9
const TOP = 92
const TITLE = 'Ratio to Redis 7 (median against median; right of 1×: better than Redis)'
/** About the width of one character of the 12px labels. */
const CHAR_WIDTH = 6.4

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

/** The chart of `rows` that have at least one ratio; `subtitle` says what run it shows. */
export function drawChart(rows: readonly Row[], subtitle: string): string {
  const shown = rows.filter((row) => Object.keys(row.ratios).length > 0)
  const labelWidth = Math.ceil(Math.max(200, ...shown.map((row) => row.label.length * CHAR_WIDTH)))
  const plotLeft = labelWidth + 22
  const width = plotLeft + PLOT_WIDTH + 70
  const ratios = shown.flatMap((row) => Object.values(row.ratios))
  const low = Math.min(-1, Math.floor(Math.log10(Math.min(...ratios, 1))))
  const high = Math.max(1, Math.ceil(Math.log10(Math.max(...ratios, 1))))
  const x = (ratio: number) => Math.round((plotLeft + ((Math.log10(ratio) - low) / (high - low)) * PLOT_WIDTH) * 10) / 10
  const groupHeight = (row: Row) => Math.max(1, BARS.filter((bar) => row.ratios[bar.column] !== undefined).length) * (BAR + 2) + 12
  const height = TOP + shown.reduce((sum, row) => sum + groupHeight(row), 0) + 40
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<title>${TITLE}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="12" y="22" font-size="16" font-weight="bold">${TITLE}</text>`,
    `<text x="12" y="42" fill="#555">${escapeXml(subtitle)}</text>`,
  ]
  BARS.forEach((bar, i) => {
    const left = 12 + i * 120
    parts.push(`<rect x="${left}" y="54" width="12" height="12" fill="${bar.color}"/>`)
    parts.push(`<text x="${left + 18}" y="64">${escapeXml(COLUMN_NAMES[bar.column])}</text>`)
  })
  for (let power = low; power <= high; power++) {
    const at = x(10 ** power)
    const one = power === 0
    parts.push(
      `<line x1="${at}" y1="${TOP - 8}" x2="${at}" y2="${height - 30}" stroke="${one ? '#111' : '#ddd'}" stroke-width="${one ? 1.5 : 1}"/>`,
    )
    // 0.001×, 0.01×, 0.1×, 1×, 10×, 100×…
    const tick = power < 0 ? (10 ** power).toFixed(-power) : String(10 ** power)
    parts.push(`<text x="${at}" y="${height - 14}" text-anchor="middle" fill="#555">${tick}×</text>`)
  }
  parts.push(`<text x="${x(1)}" y="${TOP - 12}" text-anchor="middle" font-weight="bold">Redis</text>`)
  let y = TOP
  for (const row of shown) {
    const bars = BARS.filter((bar) => row.ratios[bar.column] !== undefined)
    parts.push(`<text x="${labelWidth + 12}" y="${y + BAR}" text-anchor="end">${escapeXml(row.label)}</text>`)
    bars.forEach((bar, i) => {
      const ratio = row.ratios[bar.column]!
      const top = y + i * (BAR + 2)
      const from = Math.min(x(1), x(ratio))
      const width = Math.max(1, Math.round(Math.abs(x(ratio) - x(1)) * 10) / 10)
      parts.push(
        `<rect x="${from}" y="${top}" width="${width}" height="${BAR}" fill="${bar.color}"><title>${escapeXml(`${COLUMN_NAMES[bar.column]}: ${formatRatio(ratio)}`)}</title></rect>`,
      )
      // Right of the bar's end when better than Redis, right of the 1× line when worse.
      const textX = Math.max(x(ratio), x(1)) + 4
      parts.push(`<text x="${textX}" y="${top + BAR - 1}" font-size="10">${formatRatio(ratio)}</text>`)
    })
    y += groupHeight(row)
  }
  parts.push('</svg>')
  return `${parts.join('\n')}\n`
}
