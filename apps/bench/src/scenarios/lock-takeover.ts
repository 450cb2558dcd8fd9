// From the death of a lock's holder to a waiter holding the lock: ipc-state's onClientLeave (after
// `leaveGrace` for a SIGKILL, at once for a clean exit, which says goodbye) against Redis's lease,
// `SET lock id NX PX 1000` renewed by its holder and tried by the waiter every 50 ms.
import type { BenchContext, BenchSettings, Scenario, ScenarioSide } from '../scenario.js'
import { startServer } from '../processes/servers.js'
import type { Address, SideKind } from '../workers/configs.js'
import { wallClock } from '../workers/workloads.js'
import { startWorker, type Worker } from '../processes/worker-process.js'

/** The ipc-state server's `leaveGrace`, as long as Redis's lease: a holder may be unreachable that long in both. */
const LEAVE_GRACE_MS = 1_000

type Ending = 'kill' | 'exit'

async function startLockClient(context: BenchContext, address: Address): Promise<Worker> {
  const worker = startWorker(context.uniqueName(`${address.kind}-lock`), 'lock-client', { address })
  await worker.ready
  return worker
}

async function lockServer(context: BenchContext, column: SideKind): Promise<Address> {
  if (column === 'redis') return (await startServer(context, 'redis')).address
  const name = context.uniqueName('ipc-state-lock')
  const address = { kind: 'ipc-state' as const, socketRoot: `${context.temp.path}/`, appspace: 'bench.', id: name }
  const worker = startWorker(name, 'lock-server', { address, leaveGrace: LEAVE_GRACE_MS })
  context.defer(() => worker.stop())
  await worker.ready
  return address
}

function takeoverSide(column: SideKind, ending: Ending, takeovers: number): ScenarioSide {
  return {
    column,
    variant: ending,
    label: `${column} lock, holder ${ending === 'kill' ? 'killed' : 'exits'}`,
    async start(context) {
      const address = await lockServer(context, column)
      let holder = await startLockClient(context, address)
      context.defer(() => holder.stop())
      await holder.request('acquire')
      return {
        async measure() {
          const times: number[] = []
          for (let i = 0; i < takeovers; i++) {
            // The next holder is started and waiting before the current one goes: its start is not measured.
            const waiter = await startLockClient(context, address)
            const acquired = waiter.request<{ at: number }>('acquire')
            const begin = wallClock()
            if (ending === 'kill') holder.child.kill('SIGKILL')
            else await holder.request('exit')
            times.push((await acquired).at - begin)
            await holder.stop()
            holder = waiter
          }
          times.sort((a, b) => a - b)
          return { takeoverMs: times[Math.floor(times.length / 2)]!, worstMs: times.at(-1)! }
        },
      }
    },
  }
}

/** Lock takeover after the holder's death or clean exit. */
export const lockTakeover = (settings: BenchSettings): Scenario => {
  // A takeover after a kill takes about a second: a few per sample (one under --quick).
  const takeovers = Math.max(1, Math.round(settings.durationMs / 200))
  return {
    id: 'lock-takeover',
    title: 'lock holder killed or exiting, until a waiter holds the lock (onClientLeave / SET NX PX 1000)',
    metrics: [
      { id: 'takeoverMs', label: 'takeover, median', unit: 'ms', better: 'lower' },
      { id: 'worstMs', label: 'takeover, worst', unit: 'ms', better: 'lower' },
    ],
    variants: {
      kill: `holder SIGKILLed: leaveGrace ${LEAVE_GRACE_MS} ms / PX ${LEAVE_GRACE_MS}, retry 50 ms`,
      exit: 'holder exits cleanly: close() / DEL',
    },
    sides: () => [
      takeoverSide('ipc-state', 'kill', takeovers),
      takeoverSide('redis', 'kill', takeovers),
      takeoverSide('ipc-state', 'exit', takeovers),
      takeoverSide('redis', 'exit', takeovers),
    ],
  }
}
