// Request and answer: one client with one call or 64 in flight, several processes, large payloads.
import type { BenchSettings, Scenario } from '../scenario.js'
import { callsSide, everySide } from './calls-side.js'

const rate = (label: string) => ({ id: 'rate', label, unit: 'calls/s', better: 'higher' }) as const
const p99 = { id: 'p99Us', label: '1 client, 1 in flight: p99 latency', unit: 'µs', better: 'lower' } as const

/** 1 client, 1 call in flight: INCR. */
export const oneInFlight = (): Scenario => ({
  id: 'one-in-flight',
  title: '1 client, 1 call in flight (increment / INCR)',
  metrics: [rate('1 client, 1 in flight'), p99],
  sides: () => everySide((column, label) => callsSide({ column, label, op: 'incr', clients: 1, inFlight: 1 })),
})

/** 1 client, 64 calls in flight. */
export const manyInFlight = (): Scenario => ({
  id: 'many-in-flight',
  title: '1 client, 64 calls in flight (increment / INCR)',
  metrics: [rate('1 client, 64 in flight')],
  sides: () => everySide((column, label) => callsSide({ column, label, op: 'incr', clients: 1, inFlight: 64 })),
})

/** Several client processes, one call in flight each; ipc-state write-only and with replicas. */
export const processes = (settings: BenchSettings): Scenario => {
  const n = settings.writers
  const processCount = `${n} process${n === 1 ? '' : 'es'}`
  return {
    id: 'processes',
    title: `${n} client ${n === 1 ? 'process' : 'processes'}, 1 call in flight each (increment / INCR)`,
    metrics: [rate(`${processCount}, 1 in flight each`)],
    variants: { 'write-only': 'ipc-state write-only (replica: false)', replicas: 'ipc-state with replicas' },
    sides: () => [
      callsSide({
        column: 'ipc-state',
        label: 'ipc-state write-only',
        variant: 'write-only',
        op: 'incr',
        clients: settings.writers,
        inFlight: 1,
        replica: false,
      }),
      callsSide({
        column: 'ipc-state',
        label: 'ipc-state replicas',
        variant: 'replicas',
        op: 'incr',
        clients: settings.writers,
        inFlight: 1,
      }),
      ...everySide((column, label) => callsSide({ column, label, op: 'incr', clients: settings.writers, inFlight: 1 })).slice(1),
    ],
  }
}

/** An echo of `bytes`: the action returns its input; Redis ECHO. */
function echo(id: string, name: string, bytes: number): () => Scenario {
  return () => ({
    id,
    title: `${name} echo (echo / ECHO), 1 client, 1 in flight`,
    metrics: [rate(`${name} echo`)],
    sides: () =>
      everySide((column, label) => callsSide({ column, label, op: 'echo', payloadBytes: bytes, clients: 1, inFlight: 1 })),
  })
}

/** 64 KiB echo. */
export const echo64k = echo('echo-64k', '64 KiB', 64 * 1024)
/** 1 MiB echo. */
export const echo1m = echo('echo-1m', '1 MiB', 1024 * 1024)
