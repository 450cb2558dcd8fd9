// A side that measures calls: one server, some client processes, all calling at once.
import { startClients } from '../processes/clients.js'
import type { BenchContext, ScenarioSide, Sample } from '../scenario.js'
import { type ServerOptions, type StartedServer, startServer } from '../processes/servers.js'
import type { SideKind } from '../workers/configs.js'
import type { Op } from '../workers/drivers/driver.js'
import type { CallsResult } from '../workers/workloads.js'

/** What a calls side does. */
export interface CallsSideOptions {
  column: SideKind
  label: string
  variant?: string
  op: Op
  clients: number
  inFlight: number
  payloadBytes?: number
  /** ipc-state clients' replica. @default true */
  replica?: boolean
  server?: ServerOptions
  /** Extra figures from the results and the server, besides `rate`, `p50Us` and `p99Us`. */
  extra?: (results: CallsResult[], context: BenchContext) => Sample | Promise<Sample>
  /** Runs before each sample, say to take a size the extra figures compare with. */
  before?: (context: BenchContext) => unknown
  /** Told about the server once it started. */
  onServer?: (server: StartedServer) => void
}

/** The side: `rate` is calls answered per second, all processes together. */
export function callsSide(options: CallsSideOptions): ScenarioSide {
  return {
    column: options.column,
    label: options.label,
    ...(options.variant === undefined ? {} : { variant: options.variant }),
    async start(context) {
      const server = await startServer(context, options.column, options.server)
      options.onServer?.(server)
      const clients = await startClients(context, server.address, options.clients, { replica: options.replica ?? true })
      return {
        async measure() {
          await options.before?.(context)
          const results = await clients.all<CallsResult>('calls', {
            op: options.op,
            payloadBytes: options.payloadBytes ?? 0,
            inFlight: options.inFlight,
            durationMs: context.settings.durationMs,
            warmupMs: context.settings.warmupMs,
          })
          const rate = results.reduce((sum, result) => sum + result.calls / result.seconds, 0)
          const first = results[0]!
          return { rate, p50Us: first.p50Us, p99Us: first.p99Us, ...(await options.extra?.(results, context)) }
        },
      }
    },
  }
}

/** The four columns, each as `make` builds it. */
export function everySide(make: (column: SideKind, label: string) => ScenarioSide): ScenarioSide[] {
  return [make('ipc-state', 'ipc-state'), make('net', 'node:net'), make('node-ipc', 'node-ipc'), make('redis', 'Redis')]
}
