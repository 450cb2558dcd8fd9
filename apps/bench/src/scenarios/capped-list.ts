// Bytes on the wire per change of a capped list: push one item to a 10,000-item list, then remove
// the first. Counted from what the processes read and wrote through system calls.
import { startClients } from '../processes/clients.js'
import type { Scenario, ScenarioSide } from '../scenario.js'
import { startServer } from '../processes/servers.js'
import type { CallsResult } from '../workers/workloads.js'

const LIST_ITEMS = 10_000

/** The writer with its default options (a replica, for ipc-state), and another replica that only listens. */
function cappedListSide(column: 'ipc-state' | 'redis', label: string): ScenarioSide {
  return {
    column,
    label,
    async start(context) {
      const server = await startServer(context, column, { listItems: LIST_ITEMS })
      const [writer] = (await startClients(context, server.address, 1)).workers
      const listener = column === 'ipc-state' ? (await startClients(context, server.address, 1)).workers[0] : undefined
      await listener?.request('subscribe')
      return {
        async measure() {
          const before = await listener?.request<number>('io')
          const { durationMs, warmupMs } = context.settings
          const result = await writer!.request<CallsResult>('calls', {
            op: 'pushShift',
            payloadBytes: 0,
            inFlight: 1,
            durationMs,
            warmupMs,
          })
          const sample: Record<string, number> = { rate: result.calls / result.seconds }
          if (result.ioBytesPerCall !== null) sample.writerBytes = result.ioBytesPerCall
          if (listener !== undefined && before !== undefined) {
            await listener.request('expect', { count: result.totalCalls })
            const after = await listener.request<number>('io')
            sample.replicaBytes = (after - before) / result.totalCalls
          }
          return sample
        },
      }
    },
  }
}

/** Capped list: push then shift on a 10,000-item array. */
export const cappedList = (): Scenario => ({
  id: 'capped-list',
  title: 'capped list: push one item, drop the first, on 10,000 items (pushShift / MULTI RPUSH LPOP)',
  metrics: [
    { id: 'writerBytes', label: "capped list: caller's bytes per change, both ways", unit: 'bytes', better: 'lower' },
    { id: 'replicaBytes', label: 'capped list: bytes per change to another replica', unit: 'bytes', better: 'lower' },
    { id: 'rate', label: 'capped list: changes', unit: 'changes/s', better: 'higher' },
  ],
  sides: () => [cappedListSide('ipc-state', 'ipc-state'), cappedListSide('redis', 'Redis')],
})
