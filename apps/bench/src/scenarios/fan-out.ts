// One publisher, many subscribers: messages delivered per second, from the first publish until
// the last subscriber has the last message.
import { startClients } from '../processes/clients.js'
import type { BenchSettings, Scenario, ScenarioSide } from '../scenario.js'
import { startServer } from '../processes/servers.js'
import type { SideKind } from '../workers/configs.js'
import type { CallsResult } from '../workers/workloads.js'
import { everySide } from './calls-side.js'

const MESSAGE_BYTES = 16
const PUBLISHER_IN_FLIGHT = 16

function fanOutSide(column: SideKind, label: string, subscribers: number): ScenarioSide {
  return {
    column,
    label,
    async start(context) {
      const server = await startServer(context, column)
      // The publisher only writes; the subscribers are replicas (ipc-state) or subscribed connections.
      const publisher = await startClients(context, server.address, 1, { replica: false })
      const listeners = await startClients(context, server.address, subscribers)
      await listeners.all('subscribe')
      return {
        async measure() {
          const [published] = await publisher.all<CallsResult>('calls', {
            op: 'publish',
            payloadBytes: MESSAGE_BYTES,
            inFlight: PUBLISHER_IN_FLIGHT,
            durationMs: context.settings.durationMs,
            warmupMs: 0,
          })
          const count = published!.totalCalls
          const arrivals = await listeners.all<{ received: number; lastAt: number }>('expect', { count })
          const lastAt = Math.max(...arrivals.map((arrival) => arrival.lastAt))
          return { delivered: (count * subscribers) / ((lastAt - published!.startedAt) / 1000) }
        },
      }
    },
  }
}

/** 1 publisher → `subscribers` subscriber processes (16 by default). */
export function fanOut(settings: BenchSettings): Scenario {
  const n = settings.subscribers
  return {
    id: 'fan-out',
    title: `1 → ${n} fan-out: ${MESSAGE_BYTES}-byte messages (publish / PUBLISH), ${PUBLISHER_IN_FLIGHT} in flight`,
    metrics: [{ id: 'delivered', label: `1 → ${n} fan-out, delivered`, unit: 'msgs/s', better: 'higher' }],
    sides: () => everySide((column, label) => fanOutSide(column, label, n)),
  }
}
