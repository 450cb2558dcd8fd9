// What a client worker measures. Each workload runs for a given time (after a warm-up of its own)
// and reports counts and seconds; rates are worked out by the harness.
import { readFileSync } from 'node:fs'
import type { Driver, Op } from './drivers/driver.js'

/** Arguments of {@link runCalls}. */
export interface CallsWorkload {
  op: Op
  /** Size of the string sent with each call (`echo`, `publish`), 0 for none. */
  payloadBytes: number
  /** `publish` only: each message is the wall-clock time it was sent (see {@link wallClock}). */
  stamp?: boolean
  /** Calls in flight at once. */
  inFlight: number
  durationMs: number
  warmupMs: number
}

/** What {@link runCalls} reports. */
export interface CallsResult {
  /** Calls answered within the measured time. */
  calls: number
  /** Calls made in all, the warm-up's included. */
  totalCalls: number
  seconds: number
  p50Us: number
  p99Us: number
  /** Bytes this process read and wrote (sockets included) per measured call, where Linux tells. */
  ioBytesPerCall: number | null
  /** Wall-clock time (ms since the epoch) the measured time started. */
  startedAt: number
}

/** Calls `op` with `inFlight` calls at a time, for a warm-up and then for `durationMs`. */
export async function runCalls(driver: Driver, workload: CallsWorkload, items: () => unknown): Promise<CallsResult> {
  const payload = workload.payloadBytes > 0 ? 'x'.repeat(workload.payloadBytes) : undefined
  // Each published message differs: an action that changes nothing sends no change.
  let published = 0
  const value = () =>
    workload.op === 'pushShift'
      ? items()
      : workload.op === 'publish' && workload.stamp === true
        ? `${wallClock()}`
        : workload.op === 'publish'
          ? `${published++}`.padEnd(workload.payloadBytes, '.')
          : payload
  let totalCalls = 0
  const lanes = async (until: number, latencies?: number[]) => {
    const lane = async () => {
      while (performance.now() < until) {
        const begin = performance.now()
        await driver.call(workload.op, value())
        totalCalls++
        latencies?.push(performance.now() - begin)
      }
    }
    await Promise.all(Array.from({ length: workload.inFlight }, lane))
  }
  await lanes(performance.now() + workload.warmupMs)
  const latencies: number[] = []
  const io = readIo()
  const startedAt = wallClock()
  const begin = performance.now()
  await lanes(begin + workload.durationMs, latencies)
  const seconds = (performance.now() - begin) / 1000
  const ioAfter = readIo()
  latencies.sort((a, b) => a - b)
  const at = (q: number) => (latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN) * 1000
  return {
    calls: latencies.length,
    totalCalls,
    seconds,
    p50Us: at(0.5),
    p99Us: at(0.99),
    ioBytesPerCall: io === null || ioAfter === null ? null : (ioAfter - io) / latencies.length,
    startedAt,
  }
}

/** Reads the counter for `durationMs` after a warm-up: locally when the side can, else by calls. */
export async function runReads(driver: Driver, durationMs: number, warmupMs: number): Promise<{ reads: number; seconds: number }> {
  const { readLocal } = driver
  if (readLocal === undefined) {
    const result = await runCalls(driver, { op: 'get', payloadBytes: 0, inFlight: 1, durationMs, warmupMs }, () => undefined)
    return { reads: result.calls, seconds: result.seconds }
  }
  let sink = 0
  const loop = (ms: number) => {
    const begin = performance.now()
    let reads = 0
    let now = begin
    while (now - begin < ms) {
      for (let i = 0; i < 10_000; i++) sink += readLocal()
      reads += 10_000
      now = performance.now()
    }
    return { reads, seconds: (now - begin) / 1000 }
  }
  loop(warmupMs)
  const result = loop(durationMs)
  if (sink < 0) throw new Error('unreachable: keeps the reads from being optimised away')
  return result
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable across processes. */
export function wallClock(): number {
  return performance.timeOrigin + performance.now()
}

/** Bytes this process has read plus written through system calls so far, or null off Linux. */
export function readIo(): number | null {
  try {
    // Synchronous on purpose: the figure must be taken at this instant.
    const text = readFileSync('/proc/self/io', 'utf8')
    const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(text)?.[1] ?? Number.NaN)
    return field('rchar') + field('wchar')
  } catch {
    return null
  }
}
