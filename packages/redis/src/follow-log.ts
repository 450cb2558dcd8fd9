import type { Logger } from '@ipc-state/protocol'
import { type Connection, isNotPermitted } from './connection.js'
import { type StreamEntry, streamId } from './log-entries.js'
import type { LogReader } from './log-reader.js'

/** What {@link followLog} reads and where it hands the entries. */
export interface FollowLogOptions {
  /** The connection that blocks on the log: used for nothing else. */
  redis: Connection
  /** The stream's key. */
  log: string
  /** The store's meta key: its epoch is read right after each read of the log. */
  meta: string
  /** The id of the last entry handed over: reading resumes after it. */
  from(): string
  /**
   * Hands over entries read, with the store's epoch as Redis held it right after the read (entries
   * read before it are of that store: a store made again after a flush never gets the old epoch
   * back). The next read waits for it.
   */
  take(entries: readonly StreamEntry[], epoch: string | null): Promise<void>
  isClosed(): boolean
  logger: Logger
  /**
   * Whether the blocking read takes the log now: the writer, whose own changes nearly all of it
   * is, reads it only when told another server wrote (see relay/redis-relay.ts). Asked before each read.
   */
  readsLog?(): boolean
  /** More streams read by the same blocking read, each from where it was read last; their entries go to `take`, after the log's. */
  side?: {
    streams(): (readonly [key: string, from: string])[]
    take(key: string, entries: readonly StreamEntry[]): Promise<void>
    /** The read failed because a key is not a stream (`WRONGTYPE`): one of these that another program wrote is dropped. */
    repair(): Promise<void>
  }
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
  let refused = false
  const loop = (async () => {
    while (!options.isClosed()) {
      let reply: [string, StreamEntry[]][] | null
      let epoch: string | null
      try {
        // Sent together: Redis runs the HGET right after the XREAD returns, without a round trip more.
        const side = options.side?.streams() ?? []
        const streams: (readonly [string, string])[] = options.readsLog?.() === false ? side : [[log, options.from()], ...side]
        const keys = streams.map(([key]) => key)
        const reading = redis.xread('COUNT', COUNT, 'BLOCK', 0, 'STREAMS', ...keys, ...streams.map(([, from]) => from))
        const identity = redis.hget(options.meta, 'epoch')
        identity.catch(() => undefined)
        reply = (await reading) as [string, StreamEntry[]][] | null
        epoch = await identity
      } catch (error) {
        if (options.isClosed()) return
        const message = error instanceof Error ? error.message : String(error)
        // An ACL that lacks XREAD is no outage: say so, once until a read succeeds again.
        if (isNotPermitted(error) && !refused)
          logger.warn?.('Redis does not permit reading the log; reading again each second', { error: message })
        else logger.debug?.('reading the log failed; reading again', { error: message })
        refused = isNotPermitted(error)
        if (message.startsWith('WRONGTYPE')) await options.side?.repair().catch(() => undefined)
        await waitFor(redis.status === 'ready' ? 'second' : 'ready')
        continue
      }
      refused = false
      const entries = reply?.find(([key]) => key === log)?.[1]
      try {
        if (entries !== undefined && entries.length > 0) await options.take(entries, epoch)
        for (const [key, read] of reply ?? []) if (key !== log) await options.side?.take(key, read)
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

/**
 * The writer reads what it did not follow (it follows the log only when told another server wrote
 * to it, see relay/redis-relay.ts): the log after the last entry it has.
 */
export function readLog(reader: LogReader, logger: Logger, started: () => void = () => undefined): Promise<void> {
  return reader
    .serially(() => {
      started()
      return reader.catchUp()
    })
    .catch((error: unknown) => {
      logger.warn?.('reading the log failed; reading it again at the next notice or reconnection', {
        error: error instanceof Error ? error.message : String(error),
      })
    })
}

/**
 * The writer looks at the log's last entry (every quarter of `serverLease`): one it has not read,
 * such as an entry another program added, is read, and met as any other server would meet it.
 */
export function checkLog(redis: Connection, log: string, reader: LogReader, read: () => void): void {
  const position = streamId(reader.position)
  redis.eval(LAST_ID, 1, log).then(
    (top) => {
      if (typeof top === 'string' && top !== position) read()
    },
    () => undefined,
  )
}

/** The id of the log's last entry, without the entry: one another program added may be large. */
const LAST_ID = `local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)[1]
if top then return top[1] end
return false`
