// `ipc-state stats`: prints the server's description of itself and its connections.
import type { ServerInfoResult } from '@ipc-state/client'
import type { CommandContext } from '../command-context.js'
import { openClient } from '../open-client.js'
import { paint, type Output } from '../output.js'

/** Options of `ipc-state stats`. */
export interface StatsOptions {
  /**
   * Print the server's answer as one line of JSON instead of a summary.
   * @default false
   */
  json?: boolean
}

/**
 * `ipc-state stats`: asks the server to describe itself (`client.serverInfo()`) and prints its
 * epoch, version, uptime, counters, limits and connections.
 */
export async function runStats(context: CommandContext, options: StatsOptions): Promise<void> {
  const { output } = context
  await using client = await openClient({ address: context.address, clientId: context.clientId, timeout: context.timeout })
  const info = await client.serverInfo()
  if (options.json === true) {
    output.line(JSON.stringify(info))
    return
  }
  printStats(output, info, client.clientId)
}

function printStats(output: Output, info: ServerInfoResult, self: string): void {
  const bold = (text: string | number) => paint(String(text), 'bold', output.color)
  const dim = (text: string) => paint(text, 'dim', output.color)
  const { counters, limits, connections, connectionCount } = info
  output.line(`${bold(info.path)} ${dim(`protocol ${info.protocol}`)}`)
  output.line(`  epoch        ${info.epoch}`)
  output.line(`  version      ${bold(info.version)}`)
  output.line(`  uptime       ${formatDuration(info.uptimeMs)}`)
  output.line(`  calls        ${bold(counters.calls)}`)
  output.line(`  changes      ${bold(counters.changes)}`)
  output.line(
    `  limits       ${limits.maxConnections} connections, ${limits.maxInFlight} in flight each, ` +
      `frames ${formatBytes(limits.maxFrameBytes)}, queued ${formatBytes(limits.maxBufferedBytes)} each ` +
      `and ${formatBytes(limits.maxTotalBufferedBytes)} in all`,
  )
  const shown = connections.length < connectionCount ? ` (${connections.length} greeted shown)` : ''
  output.line(`  connections  ${bold(connectionCount)}${shown}`)
  for (const connection of connections) {
    const who =
      connection.instanceId === connection.clientId ? connection.clientId : `${connection.clientId} (${connection.instanceId})`
    const traits = [
      connection.replica ? 'replica' : 'no replica',
      `${connection.inFlight} in flight`,
      `${formatBytes(connection.queuedBytes)} queued`,
    ]
    const me = connection.clientId === self ? ` ${dim('(this command)')}` : ''
    output.line(`    ${who}: ${traits.join(', ')}${me}`)
  }
}

/** `1h 2m 3s`, `4.5s`: how long, as a person reads it. */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 100) / 10}s`
  const seconds = Math.floor(ms / 1000)
  const parts = [
    [Math.floor(seconds / 86_400), 'd'],
    [Math.floor(seconds / 3_600) % 24, 'h'],
    [Math.floor(seconds / 60) % 60, 'm'],
    [seconds % 60, 's'],
  ] as const
  const first = parts.findIndex(([value]) => value > 0)
  return parts
    .slice(first)
    .map(([value, unit]) => `${value}${unit}`)
    .join(' ')
}

/** `512 B`, `64 KiB`, `1.5 MiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit += 1
  }
  return `${Math.round(value * 10) / 10} ${units[unit]}`
}
