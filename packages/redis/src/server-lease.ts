// This server's lease in Redis while it lives, and whose leases still hold: how servers sharing a store learn that one died.
import type { Logger } from '@ipc-state/protocol'
import type { ServerLeases } from '@ipc-state/server'
import type { Connection } from './connection.js'

/**
 * A key `<key>:server:<id>` per server, set to expire ¾ of `leaseMs` after each renewal and renewed
 * every ¼ of it: the key of a server that died (or lost Redis) is gone ¾ of `leaseMs` after its
 * death at most, and the others, which look every ¼ of it, know within `leaseMs`. A living server
 * whose event loop stalls for half of `leaseMs` is taken for dead.
 */
export class ServerLease implements ServerLeases {
  readonly serverId: string
  readonly leaseMs: number
  readonly #redis: Connection
  readonly #prefix: string
  readonly #logger: Logger
  #timer: ReturnType<typeof setInterval> | undefined
  /** Whether the last renewal failed: said once per outage, not at every try. */
  #failing = false

  constructor(redis: Connection, key: string, serverId: string, leaseMs: number, logger: Logger) {
    this.#redis = redis
    this.#prefix = leaseKey(key, '')
    this.serverId = serverId
    this.leaseMs = leaseMs
    this.#logger = logger
  }

  /** Takes the lease, and keeps it until {@link stop}. */
  async start(): Promise<void> {
    await this.#renew()
    this.#timer = setInterval(() => void this.#renew().catch(() => undefined), leaseQuarter(this.leaseMs))
    // A lease kept alive must not keep a process alive that has nothing else to do.
    this.#timer.unref()
  }

  async alive(serverIds: readonly string[]): Promise<ReadonlySet<string>> {
    if (serverIds.length === 0) return new Set()
    const held = await this.#redis.mget(serverIds.map((id) => this.#prefix + id))
    return new Set(serverIds.filter((_id, index) => held[index] !== null))
  }

  /** Gives the lease up: the others may take this server's clients at once rather than after the lease. */
  async stop(): Promise<void> {
    clearInterval(this.#timer)
    this.#timer = undefined
    await this.#redis.del(this.#prefix + this.serverId).catch(() => undefined)
  }

  async #renew(): Promise<void> {
    try {
      await this.#redis.set(this.#prefix + this.serverId, '1', 'PX', this.leaseMs - leaseQuarter(this.leaseMs))
      if (this.#failing) this.#logger.info?.('this server holds its lease in Redis again', { server: this.serverId })
      this.#failing = false
    } catch (error) {
      if (!this.#failing) {
        this.#logger.warn?.(
          'could not renew this server’s lease in Redis: once it runs out, other servers take its clients as gone',
          { server: this.serverId, error: (error as Error).message },
        )
      }
      this.#failing = true
      throw error
    }
  }
}

/** A quarter of a lease, in whole milliseconds: between renewals, and between the others' looks. */
function leaseQuarter(leaseMs: number): number {
  return Math.max(1, Math.floor(leaseMs / 4))
}

/** The key of server `serverId`'s lease in the store under `key`. */
export function leaseKey(key: string, serverId: string): string {
  return `${key}:server:${serverId}`
}
