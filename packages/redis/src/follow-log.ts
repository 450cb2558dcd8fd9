import type { Logger } from '@ipc-state/protocol'
import type { Connection } from './connection.js'
import type { StreamEntry } from './log-entries.js'

/** What {@link followLog} reads and where it hands the entries. */
export interface FollowLogOptions {
  /** The connection that blocks on the log: used for nothing else. */
  redis: Connection
  /** The stream's key. */
  log: string
  /** The id of the last entry handed over: reading resumes after it. */
  from(): string
  /** Hands over entries read; the next read waits for it. */
  take(entries: readonly StreamEntry[]): Promise<void>
  isClosed(): boolean
  logger: Logger
}

/** Entries read at once. */
const COUNT = 1_000

/**
 * Reads the log with a blocking XREAD from the last entry handed over, for as long as the storage
 * is open, and hands each page over. A read that fails because Redis went away is tried again once
 * the connection is back (ioredis reconnects by itself); one that Redis refused, after a second.
 * Returns a function that resolves once the loop ended (after the connection was closed).
 */
export function followLog(options: FollowLogOptions): () => Promise<void> {
  const { redis, log, logger } = options
  let wake: (() => void) | undefined
  const waitFor = (event: 'ready' | 'second') =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer)
        redis.off('ready', done)
        wake = undefined
        resolve()
      }
      wake = done
      // Not a wait for readiness: a back-off before asking a Redis that refused the read again.
      const timer = event === 'second' ? setTimeout(done, 1_000) : undefined
      if (event === 'ready') redis.once('ready', done)
    })
  const loop = (async () => {
    while (!options.isClosed()) {
      let reply: [string, StreamEntry[]][] | null
      try {
        reply = (await redis.xread('COUNT', COUNT, 'BLOCK', 0, 'STREAMS', log, options.from())) as [string, StreamEntry[]][] | null
      } catch (error) {
        if (options.isClosed()) return
        logger.debug?.('reading the log failed; reading again', { error: error instanceof Error ? error.message : String(error) })
        await waitFor(redis.status === 'ready' ? 'second' : 'ready')
        continue
      }
      const entries = reply?.[0]?.[1]
      if (entries === undefined || entries.length === 0) continue
      try {
        await options.take(entries)
      } catch (error) {
        if (options.isClosed()) return
        logger.warn?.('taking changes from the log failed; reading again', {
          error: error instanceof Error ? error.message : String(error),
        })
        await waitFor('second')
      }
    }
  })()
  return async () => {
    wake?.()
    await loop
  }
}
