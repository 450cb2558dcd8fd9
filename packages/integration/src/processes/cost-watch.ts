// Fixture side: what a fixture's process costs, its memory and how long its event loop stalls.
import { monitorEventLoopDelay } from 'node:perf_hooks'

/** What a process cost since the last look: its RSS now, the highest sampled, the longest stall. */
export interface Costs {
  rss: number
  peakRss: number
  maxLagMs: number
}

/**
 * Starts sampling the RSS (every 10 ms) and the event loop's delay, and returns a function that
 * tells the costs since it was last called, then starts over.
 */
export function watchCosts(): () => Costs {
  let peakRss = process.memoryUsage.rss()
  // Sampled from the process's own event loop: a stall shows in the delay, not in missing samples.
  setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss())
  }, 10).unref()
  const lag = monitorEventLoopDelay({ resolution: 10 })
  lag.enable()
  return () => {
    const rss = process.memoryUsage.rss()
    const costs = { rss, peakRss: Math.max(peakRss, rss), maxLagMs: lag.max / 1e6 }
    peakRss = rss
    lag.reset()
    return costs
  }
}
