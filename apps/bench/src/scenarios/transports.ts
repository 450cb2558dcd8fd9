// The transports besides the Unix socket: a worker thread over a message port and over the Unix
// socket to a server in its process's main thread, and a client process over WebSocket, each at 1
// and 64 calls in flight, against ioredis's INCR from a client process.
import { startClients } from '../processes/clients.js'
import { startServer } from '../processes/servers.js'
import { startWorker, type Worker } from '../processes/worker-process.js'
import type { BenchContext, Scenario, ScenarioSide } from '../scenario.js'
import type { SideKind, ThreadTransport } from '../workers/configs.js'
import type { CallsResult } from '../workers/workloads.js'

/** Something that answers `calls` requests: a client process, or a thread host. */
type Caller = Pick<Worker, 'request'>

/** One sample: 1 call in flight (rate and p99), then 64 in flight (rate). */
async function measureBoth(caller: Caller, context: BenchContext) {
  const calls = (inFlight: number) =>
    caller.request<CallsResult>('calls', {
      op: 'incr',
      payloadBytes: 0,
      inFlight,
      durationMs: context.settings.durationMs,
      warmupMs: context.settings.warmupMs,
    })
  const one = await calls(1)
  const many = await calls(64)
  return { rate1: one.calls / one.seconds, p99Us: one.p99Us, rate64: many.calls / many.seconds }
}

/** A server in a process's main thread, its client in a worker thread of the same process. */
function threadSide(transport: ThreadTransport, label: string): ScenarioSide {
  return {
    column: 'ipc-state',
    variant: transport,
    label,
    async start(context) {
      const id = context.uniqueName('thread-host')
      const address = { kind: 'ipc-state', socketRoot: `${context.temp.path}/`, appspace: 'bench.', id } as const
      const host = startWorker(id, 'thread-host', { address, transport })
      context.defer(() => host.stop())
      await host.ready
      return { measure: () => measureBoth(host, context) }
    },
  }
}

/** A server process and one client process, over the Unix socket (Redis too) or over WebSocket. */
function processSide(column: SideKind, label: string, variant?: 'socket-process' | 'websocket'): ScenarioSide {
  return {
    column,
    label,
    ...(variant === undefined ? {} : { variant }),
    async start(context) {
      const server = await startServer(context, column, { websocket: variant === 'websocket' })
      const [client] = (await startClients(context, server.address, 1)).workers
      return { measure: () => measureBoth(client!, context) }
    },
  }
}

/** Worker threads over message ports and the Unix socket, and a WebSocket client, against Redis. */
export const transports = (): Scenario => ({
  id: 'transports',
  title: 'transports: worker threads over message ports and the Unix socket, a client over WebSocket (increment / INCR)',
  metrics: [
    { id: 'rate1', label: '1 in flight', unit: 'calls/s', better: 'higher' },
    { id: 'p99Us', label: '1 in flight: p99 latency', unit: 'µs', better: 'lower' },
    { id: 'rate64', label: '64 in flight', unit: 'calls/s', better: 'higher' },
  ],
  variants: {
    'message-port': 'worker thread over a message port',
    'unix-socket': 'worker thread over the Unix socket',
    'socket-process': 'client process over the Unix socket',
    websocket: 'client process over WebSocket (ws)',
  },
  sides: () => [
    threadSide('message-port', 'ipc-state thread, message port'),
    threadSide('unix-socket', 'ipc-state thread, Unix socket'),
    processSide('ipc-state', 'ipc-state process, Unix socket', 'socket-process'),
    processSide('ipc-state', 'ipc-state process, WebSocket', 'websocket'),
    processSide('redis', 'Redis'),
  ],
})
