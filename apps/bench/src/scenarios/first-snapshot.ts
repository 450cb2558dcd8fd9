// A new connection until the whole state of about 1 MB has arrived and been decoded: ipc-state's
// connect() with its replica; the others ask for it (Redis: GET of the state as JSON, parsed).
import { startClients } from '../processes/clients.js'
import type { Scenario, ScenarioSide } from '../scenario.js'
import { startServer } from '../processes/servers.js'
import type { SideKind } from '../workers/configs.js'
import { everySide } from './calls-side.js'

/** Items in the state: 10,000 of about 100 bytes, 1 MB of JSON. */
export const SNAPSHOT_ITEMS = 10_000

function firstSnapshotSide(column: SideKind, label: string): ScenarioSide {
  return {
    column,
    label,
    async start(context) {
      const server = await startServer(context, column, { listItems: SNAPSHOT_ITEMS })
      const [client] = (await startClients(context, server.address, 1, { replica: false })).workers
      return {
        async measure() {
          const { durationMs, warmupMs } = context.settings
          const result = await client!.request<{ connects: number; medianMs: number }>('snapshots', { durationMs, warmupMs })
          return { connectMs: result.medianMs }
        },
      }
    },
  }
}

/** Connect and first snapshot of a 1 MB state. */
export const firstSnapshot = (): Scenario => ({
  id: 'first-snapshot',
  title: 'connect and first snapshot of a 1 MB state (connect / GET + JSON.parse)',
  metrics: [{ id: 'connectMs', label: 'connect + first snapshot, 1 MB', unit: 'ms', better: 'lower' }],
  sides: () => everySide(firstSnapshotSide),
})
