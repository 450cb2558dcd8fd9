// Fills a server for the start-up rows, from the harness itself: a journal of many changes, or a
// large state. Not measured.
import { setTimeout as delay } from 'node:timers/promises'
import { connect } from '@ipc-state/client'
import { Redis } from 'ioredis'
import type { BenchStore } from '../stores/bench-store.js'
import type { Address } from '../workers/configs.js'

/** The large state: `megabytes` fills of 1,000 strings of 1,000 bytes. */
export const FILL = { count: 1000, bytes: 1000 } as const
const IN_FLIGHT = 256
const REDIS_BATCH = 10_000

/** Runs `total` calls of `call`, `IN_FLIGHT` at a time, reporting every tenth. */
async function inLanes(total: number, call: () => Promise<unknown>, progress: (done: number) => void): Promise<void> {
  let started = 0
  let done = 0
  const step = Math.max(1, Math.ceil(total / 10))
  const lane = async () => {
    while (started < total) {
      started++
      await call()
      if (++done % step === 0) progress(done)
    }
  }
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, total) }, lane))
}

/** Calls `increment` `changes` times and `fill` `megabytes` times on an ipc-state server. */
export async function fillIpcState(
  address: Extract<Address, { kind: 'ipc-state' }>,
  work: { changes: number; megabytes: number },
  progress: (message: string) => void,
): Promise<void> {
  const { socketRoot, appspace, id } = address
  const client = await connect<BenchStore>({ socketRoot, appspace, id, replica: false, timeout: 600_000 })
  try {
    await inLanes(
      work.changes,
      () => client.actions.increment(1),
      (done) => progress(`${done.toLocaleString('en')} changes`),
    )
    for (let i = 0; i < work.megabytes; i++) await client.actions.fill(FILL)
  } finally {
    await client.close()
  }
}

/** The same on Redis: `INCR` `changes` times, and the same strings `RPUSH`ed to `blobs`. */
export async function fillRedis(path: string, work: { changes: number; megabytes: number }): Promise<void> {
  const redis = new Redis({ path })
  try {
    for (let done = 0; done < work.changes; done += REDIS_BATCH) {
      const pipeline = redis.pipeline()
      for (let i = done; i < Math.min(work.changes, done + REDIS_BATCH); i++) pipeline.incr('counter')
      await pipeline.exec()
    }
    for (let i = 0; i < work.megabytes; i++) {
      const base = i * FILL.count
      const blobs = Array.from({ length: FILL.count }, (_, j) => `${base + j}:`.padEnd(FILL.bytes, 'x'))
      await redis.rpush('blobs', ...blobs)
    }
    if (work.megabytes > 0) await rewriteAof(redis)
  } finally {
    redis.disconnect()
  }
}

/** Rewrites the AOF (its base then holds the data as RDB) and waits until the rewrite is done. */
async function rewriteAof(redis: Redis): Promise<void> {
  await redis.bgrewriteaof()
  for (;;) {
    const info = await redis.info('persistence')
    if (/aof_rewrite_in_progress:0/.test(info) && /aof_rewrite_scheduled:0/.test(info)) break
    await delay(20) // polling Redis's own flag: it has no event for the end of a rewrite
  }
}
