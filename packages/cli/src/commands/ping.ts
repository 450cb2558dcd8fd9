// `ipc-state ping`: times one round trip to the server.
import { performance } from 'node:perf_hooks'
import type { CommandContext } from '../command-context.js'
import { openClient } from '../open-client.js'
import { paint } from '../output.js'

/** Options of `ipc-state ping`. */
export interface PingOptions {
  /**
   * Print one JSON object (`path`, `ms`, `epoch`, `version`) instead of a sentence.
   * @default false
   */
  json?: boolean
}

/**
 * `ipc-state ping`: connects, times one `getState` round trip and prints it in milliseconds, with
 * the server run's epoch and the state's version.
 */
export async function runPing(context: CommandContext, options: PingOptions): Promise<void> {
  const { output } = context
  // The replica is what knows the version; connecting fetches it once.
  await using client = await openClient({
    address: context.address,
    clientId: context.clientId,
    timeout: context.timeout,
    replica: true,
  })
  const started = performance.now()
  await client.getState()
  const ms = Math.round((performance.now() - started) * 1000) / 1000
  if (options.json === true) {
    output.line(JSON.stringify({ path: client.path, ms, epoch: client.epoch, version: client.version }))
    return
  }
  output.line(
    `${paint('pong', 'green', output.color)} from ${client.path}: ${paint(`${ms} ms`, 'bold', output.color)}, ` +
      `epoch ${client.epoch}, version ${client.version}`,
  )
}
