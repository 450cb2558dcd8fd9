import type { CommandContext } from '../command-context.js'
import { openClient } from '../open-client.js'
import { formatJson, paint, type Output } from '../output.js'
import { valueAtPath } from '../value-path.js'

/** Options of `ipc-state watch`. */
export interface WatchOptions {
  /** A dotted path into the state: only changes there are printed. The whole state without it. */
  path?: string
  /**
   * Print one JSON object per line: `{ version, epoch, time, reason, value }`.
   * @default false
   */
  json?: boolean
}

/**
 * Why a line was printed: the value when watching began (`current`), or a change the replica
 * received (`change`, `resync`, `reset`, as the client reports them).
 */
export type WatchReason = 'current' | 'change' | 'resync' | 'reset'

/** One printed line of `watch`. */
export interface WatchLine {
  version: number
  epoch: string
  /** When this process received it, as an ISO date. */
  time: string
  reason: WatchReason
  value: unknown
}

/**
 * `ipc-state watch [path]`: prints the current value, then each change as the replica receives it,
 * until `context.signal` aborts; then closes the client and resolves. While the connection is lost
 * it says so on stderr and reconnects.
 */
export async function runWatch(context: CommandContext, options: WatchOptions): Promise<void> {
  const { output, signal } = context
  if (signal.aborted) return
  const client = await openClient({ address: context.address, timeout: context.timeout, replica: true, reconnect: true })
  try {
    const print = (reason: WatchReason, version: number, epoch: string, value: unknown): void =>
      printLine(output, options.json === true, { version, epoch, time: new Date().toISOString(), reason, value })
    const select = (state: unknown): unknown => valueAtPath(state, options.path)
    const stop =
      options.path === undefined
        ? client.subscribe((state, info) => print(info.reason, info.version, info.epoch, state))
        : client.subscribe(select, (value, _previous, info) => print(info.reason, info.version, info.epoch, value))
    const stopStatus = client.onStatusChange((status) => {
      if (status === 'reconnecting') output.error(paint(`lost ${client.path}, reconnecting…`, 'yellow', output.errorColor))
      else if (status === 'connected') output.error(paint(`reconnected to ${client.path}`, 'green', output.errorColor))
    })
    print('current', client.version, client.epoch, select(client.state))
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
    stop()
    stopStatus()
  } finally {
    await client.close()
  }
}

function printLine(output: Output, json: boolean, line: WatchLine): void {
  if (json) {
    output.line(JSON.stringify({ ...line, value: line.value ?? null }))
    return
  }
  const reason = line.reason === 'change' ? '' : ` ${paint(`(${line.reason})`, 'yellow', output.color)}`
  const head = `${paint(line.time, 'dim', output.color)} ${paint(`v${line.version}`, 'bold', output.color)}${reason}`
  output.line(`${head} ${formatJson(line.value, { compact: true, color: output.color })}`)
}
