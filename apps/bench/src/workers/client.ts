// A client process of one side. Requests:
// - `calls` (a CallsWorkload): calls for a while, reports a CallsResult;
// - `reads` {durationMs, warmupMs}: reads the counter, reports {reads, seconds};
// - `subscribe`: subscribes (once); `expect` {count}: resolves once `count` messages arrived since
//   the last `expect` (or the subscription), with {received, lastAt} (wall-clock ms of the last);
// - `snapshots` {durationMs, warmupMs}: connects anew again and again, each time until the whole
//   state arrived, and reports {connects, medianMs};
// - `lags` {count, since}: like `expect`, then reports {count, p50Us, p99Us}: how long the stamped
//   messages (see CallsWorkload's `stamp`) sent at `since` or later took to arrive;
// - `io`: bytes this process has read and written so far, for the bytes-per-change rows.
import type { ClientConfig } from './configs.js'
import type { Side } from './drivers/driver.js'
import { type CallsWorkload, readIo, runCalls, runReads, wallClock } from './workloads.js'
import { makeItem } from '../stores/bench-state.js'
import { createLagRecorder } from './lags.js'
import { emit, serveRequests, workerConfig } from './worker-io.js'

// Only the side's own client library is loaded: a process starts sooner, and measures only it.
const SIDES: Record<ClientConfig['address']['kind'], () => Promise<Side>> = {
  'ipc-state': async () => (await import('./drivers/ipc-state.js')).ipcStateSide,
  net: async () => (await import('./drivers/net.js')).netSide,
  'node-ipc': async () => (await import('./drivers/node-ipc.js')).nodeIpcSide,
  redis: async () => (await import('./drivers/redis.js')).redisSide,
  websocket: async () => (await import('./drivers/websocket.js')).webSocketSide,
}

const config = workerConfig<ClientConfig>()
const side = await SIDES[config.address.kind]()
const driver = await side.connect(config)
let nextItem = 1_000_000_000
const items = () => makeItem(nextItem++)

let received = 0
let lastAt = 0
let counted = 0
let waiter: { count: number; resolve(): void } | undefined
const lags = createLagRecorder()
const onCount = (count: number, message?: string) => {
  received = count
  lastAt = wallClock()
  lags.record(message, lastAt)
  if (waiter !== undefined && received - counted >= waiter.count) waiter.resolve()
}

async function expect(count: number): Promise<{ received: number; lastAt: number }> {
  if (received - counted < count) await new Promise<void>((resolve) => (waiter = { count, resolve }))
  waiter = undefined
  const result = { received: received - counted, lastAt }
  counted = received
  return result
}

async function snapshots(durationMs: number, warmupMs: number): Promise<{ connects: number; medianMs: number }> {
  const times: number[] = []
  const warmupEnd = performance.now() + warmupMs
  const end = warmupEnd + durationMs
  while (performance.now() < end || times.length === 0) {
    const begin = performance.now()
    const close = await side.firstSnapshot(config.address)
    if (begin >= warmupEnd) times.push(performance.now() - begin)
    await close()
  }
  times.sort((a, b) => a - b)
  return { connects: times.length, medianMs: times[Math.floor(times.length / 2)]! }
}

serveRequests(
  async (request) => {
    switch (request.cmd) {
      case 'calls':
        return runCalls(driver, request as unknown as CallsWorkload, items)
      case 'reads':
        return runReads(driver, request.durationMs as number, request.warmupMs as number)
      case 'subscribe':
        return driver.subscribe(onCount)
      case 'expect':
        return expect(request.count as number)
      case 'snapshots':
        return snapshots(request.durationMs as number, request.warmupMs as number)
      case 'lags': {
        await expect(request.count as number)
        return lags.take(request.since as number)
      }
      case 'io':
        return readIo()
      default:
        throw new Error(`unknown request ${request.cmd}`)
    }
  },
  () => driver.close(),
)
emit('ready')
