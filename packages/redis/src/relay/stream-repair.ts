// What a server does with a relay stream another program made unusable: dropped when met, since nothing can follow in it.
import type { Logger } from '@ipc-state/protocol'
import type { Connection } from '../connection.js'

/** How far in the future (by this machine's clock) a stream's entry may be stamped, for clocks that differ. */
const FUTURE_MS = 24 * 60 * 60 * 1000

/** Whether Redis refused a command because a key holds another type than the command works on. */
export const wrongType = (error: unknown): boolean => error instanceof Error && error.message.startsWith('WRONGTYPE')

/**
 * Drops each of `keys` that another program made something else than a stream: a blocking read
 * that takes it fails, and no call could be relayed through it.
 */
export async function dropNonStreams(redis: Connection, keys: readonly string[], logger: Logger): Promise<void> {
  for (const key of keys) {
    const kind = await redis.type(key)
    if (kind === 'stream' || kind === 'none') continue
    logger.warn?.('a key of the relay is not a stream: deleted', { key, type: kind })
    await redis.del(key)
  }
}

/**
 * Deletes the stream `key` when its last entry, `id`, was read and is stamped far in the future:
 * no entry can be added after it (`XADD *` makes ids that only grow), so another program that
 * wrote it would block the stream for good. Nothing is lost: nothing came after it. Whether it did.
 */
export function unblock(redis: Connection, key: string, id: string, logger: Logger): boolean {
  if (Number(id.slice(0, id.indexOf('-'))) <= Date.now() + FUTURE_MS) return false
  logger.warn?.('the last entry of a stream is stamped in the future, so no entry could follow it: the stream is deleted', {
    key,
    id,
  })
  redis.del(key).catch(() => undefined)
  return true
}
