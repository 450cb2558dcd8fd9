// The writer's lease in Redis: which one of the servers sharing a store runs every call, and the handover when it dies.
import type { Logger } from '@ipc-state/protocol'
import type { Connection } from '../connection.js'
import type { StoreKeys } from '../load-store.js'

/**
 * Renews the lease only while this server holds it, of the store it loaded (KEYS[2], the meta key,
 * holds its epoch, ARGV[3]): 1 when it did, 0 otherwise.
 */
const RENEW = `if redis.pcall('HGET', KEYS[2], 'epoch') ~= ARGV[3] then return 0 end
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`
/**
 * Takes the lease when no server holds it, and answers who holds it. A key that is not a lease (not
 * a string, or one that never runs out: written by hand) is dropped first, or no server would ever
 * be the writer again. A server whose store is gone or another one (flushed and made again: its epoch
differs) takes no lease of it.
 */
const TAKE = `if redis.pcall('HGET', KEYS[2], 'epoch') ~= ARGV[3] then
  local holder = redis.pcall('GET', KEYS[1])
  if type(holder) == 'string' then return holder end
  return false
end
local kind = redis.call('TYPE', KEYS[1]).ok
if kind ~= 'none' and (kind ~= 'string' or redis.call('PTTL', KEYS[1]) < 0) then redis.call('DEL', KEYS[1]) end
if redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then return ARGV[1] end
return redis.call('GET', KEYS[1])`
/** Gives the lease up only while this server holds it. */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`

/** What a {@link WriterLease} tells the storage. */
export interface WriterLeaseEvents {
  /** This server became the writer: it reads the calls the others relay from now on. */
  writing(): void
  /**
   * The writer changed, or this server stopped being it: calls relayed and not answered yet may
   * never be, and are relayed again (to the new writer).
   */
  changed(): void
  /** This server renewed its lease as the writer (every quarter of `leaseMs`). */
  renewed(): void
}

/**
 * The key `<key>:writer`, holding the id of the server that runs every call, set to expire ¾ of
 * `leaseMs` after each renewal and renewed every ¼ of it. Every other server tries to take it at
 * the same pace (`SET NX`), so within `leaseMs` of the writer's death another one holds it. A
 * writer that cannot renew (its event loop stalled, Redis unreachable) stops running relayed calls
 * as soon as it learns so; until then two servers may run the same call, which the store's
 * compare-and-append and the record of answered calls make apply once.
 */
export class WriterLease {
  readonly #redis: Connection
  readonly #key: string
  readonly #serverId: string
  readonly #leaseMs: number
  readonly #events: WriterLeaseEvents
  readonly #logger: Logger
  readonly #meta: string
  readonly #epoch: () => string
  #timer: ReturnType<typeof setInterval> | undefined
  #writing = false
  /** The writer as this server last saw it. */
  #holder: string | null = null

  /** @param epoch the epoch of the store this server loaded, whose meta key is `keys.meta` */
  constructor(
    redis: Connection,
    keys: Pick<StoreKeys, 'writer' | 'meta'>,
    epoch: () => string,
    serverId: string,
    leaseMs: number,
    events: WriterLeaseEvents,
    logger: Logger,
  ) {
    this.#redis = redis
    this.#key = keys.writer
    this.#meta = keys.meta
    this.#epoch = epoch
    this.#serverId = serverId
    this.#leaseMs = leaseMs
    this.#events = events
    this.#logger = logger
  }

  /** Whether this server is the writer, as it last learned. */
  get writing(): boolean {
    return this.#writing
  }

  /** Takes the lease when no server holds it, and looks again every ¼ of `leaseMs` until {@link stop}. */
  async start(): Promise<void> {
    await this.#look()
    const quarter = Math.max(1, Math.floor(this.#leaseMs / 4))
    this.#timer = setInterval(() => void this.#look().catch(() => undefined), quarter)
    // A lease kept alive must not keep a process alive that has nothing else to do.
    this.#timer.unref()
  }

  /** Gives the lease up when this server holds it: another server takes over at its next look. */
  async stop(): Promise<void> {
    clearInterval(this.#timer)
    this.#timer = undefined
    if (!this.#writing) return
    this.#writing = false
    await this.#redis.eval(RELEASE, 1, this.#key, this.#serverId).catch(() => undefined)
  }

  async #look(): Promise<void> {
    const ttl = this.#leaseMs - Math.max(1, Math.floor(this.#leaseMs / 4))
    let holder: string | null
    try {
      if (this.#writing && (await this.#redis.eval(RENEW, 2, this.#key, this.#meta, this.#serverId, ttl, this.#epoch())) === 1) {
        this.#events.renewed()
        return
      }
      holder = (await this.#redis.eval(TAKE, 2, this.#key, this.#meta, this.#serverId, ttl, this.#epoch())) as string | null
    } catch (error) {
      // Unreachable: another server may take over meanwhile, so this one stops running calls.
      if (this.#writing) {
        this.#logger.warn?.('could not renew the writer’s lease in Redis: this server stops running relayed calls', {
          error: (error as Error).message,
        })
        this.#writing = false
        this.#holder = null
        this.#events.changed()
      }
      throw error
    }
    if (holder === this.#holder && this.#writing === (holder === this.#serverId)) return
    const was = this.#writing
    this.#holder = holder
    this.#writing = holder === this.#serverId
    if (this.#writing && !was) {
      this.#logger.info?.('this server is the writer: it runs every call of the servers sharing the store', {
        server: this.#serverId,
      })
      this.#events.writing()
    }
    this.#events.changed()
  }
}
