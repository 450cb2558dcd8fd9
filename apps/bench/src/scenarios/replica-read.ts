// Reading one value: ipc-state reads its replica, a memory read; the others ask the server.
import { startClients } from '../processes/clients.js'
import type { Scenario, ScenarioSide } from '../scenario.js'
import { startServer } from '../processes/servers.js'
import type { SideKind } from '../workers/configs.js'
import { everySide } from './calls-side.js'

function readSide(column: SideKind, label: string): ScenarioSide {
  return {
    column,
    label,
    async start(context) {
      const server = await startServer(context, column)
      const [client] = (await startClients(context, server.address, 1)).workers
      return {
        async measure() {
          const { durationMs, warmupMs } = context.settings
          const result = await client!.request<{ reads: number; seconds: number }>('reads', { durationMs, warmupMs })
          return { reads: result.reads / result.seconds }
        },
      }
    },
  }
}

/** Replica read against a round trip (Redis GET). */
export const replicaRead = (): Scenario => ({
  id: 'replica-read',
  title: "read the counter: ipc-state's replica against a round trip (GET)",
  metrics: [{ id: 'reads', label: 'read a value (replica / GET)', unit: 'reads/s', better: 'higher' }],
  sides: () => everySide(readSide),
})
