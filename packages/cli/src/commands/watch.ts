// `ipc-state watch`: prints the state, or the part at a path, and then each change to it.
import type { ChangeInfo } from '@ipc-state/client'
import type { CommandContext } from '../command-context.js'
import { openClient } from '../open-client.js'
import { formatJson, paint, type Output } from '../output.js'
import { valueAtPath } from '../value-path.js'

/** Options of `ipc-state watch`. */
export interface WatchOptions {
  /** A dotted path into the state: only changes there are printed. The whole state without it. */
  path?: string
  /**
   * Print one JSON object per line: `{ version, epoch, time, reason, action?, clientId?, value }`.
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
  /** With `reason: 'change'`: the action that made it, when the server names it. */
  action?: string
  /** With `reason: 'change'`: the `clientId` of the client that called the action, when the server names it. */
  clientId?: string
  value: unknown
}

/**
 * `ipc-state watch [path]`: prints the current value, then each change as the replica receives it
 * with the action that made it and the client that called it, until `context.signal` aborts; then closes the client and resolves. While the connection is lost
 * it says so on stderr and reconnects.
 */
export async function runWatch(context: CommandContext, options: WatchOptions): Promise<void> {
  const { output, signal } = context
  if (signal.aborted) return
  const client = await openClient({
    address: context.address,
    clientId: context.clientId,
    timeout: context.timeout,
    replica: true,
    reconnect: true,
  })
  try {
    const print = (info: ChangeInfo | { reason: 'current'; version: number; epoch: string }, value: unknown): void => {
      const { reason, version, epoch } = info
      const by = 'action' in info ? { action: info.action, clientId: info.clientId } : {}
      printLine(output, options.json === true, { version, epoch, time: new Date().toISOString(), reason, ...by, value })
    }
    const select = (state: unknown): unknown => valueAtPath(state, options.path)
    const stop =
      options.path === undefined
        ? client.subscribe((state, info) => print(info, state))
        : client.subscribe(select, (value, _previous, info) => print(info, value))
    const stopStatus = client.onStatusChange((status) => {
      if (status === 'reconnecting') output.error(paint(`lost ${client.path}, reconnecting…`, 'yellow', output.errorColor))
      else if (status === 'connected') output.error(paint(`reconnected to ${client.path}`, 'green', output.errorColor))
    })
    print({ reason: 'current', version: client.version, epoch: client.epoch }, select(client.state))
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
  const by =
    line.action === undefined
      ? ''
      : ` ${paint(line.action, 'cyan', output.color)}${line.clientId === undefined ? '' : ` by ${line.clientId}`}`
  const head = `${paint(line.time, 'dim', output.color)} ${paint(`v${line.version}`, 'bold', output.color)}${reason}${by}`
  output.line(`${head} ${formatJson(line.value, { compact: true, color: output.color })}`)
}
