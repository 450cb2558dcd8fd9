import { randomUUID } from 'node:crypto'
import { ErrorCode, IpcStateError } from '@ipc-state/protocol'
import type { ExternalUpdate, LoadedStore, Storage, StorageContext, StorageEntry, WriteConflict } from '@ipc-state/server'
import { type CommitReply, type Connection, connect, createConnection, unavailable, watchConnection } from './connection.js'
import { followLog } from './follow-log.js'
import {
  type LogPosition,
  type StreamEntry,
  decodeEntry,
  encodeEntries,
  follows,
  isAfter,
  positionOf,
  streamId,
} from './log-entries.js'
import { type RedisStorageOptions, type RedisStorageSettings, parseRedisStorageOptions } from './redis-options.js'
import { encodeSnapshot } from './replay-log.js'
import { PAGE, type StoreKeys, loadStore, openStore } from './load-store.js'
import { COMMIT_SCRIPT, INIT_SCRIPT, MISSED_PAGE, SNAPSHOT_SCRIPT, TURN_MS } from './scripts.js'

const SCRIPTS = {
  ipcStateCommit: { numberOfKeys: 3, lua: COMMIT_SCRIPT },
  ipcStateInit: { numberOfKeys: 2, lua: INIT_SCRIPT },
  ipcStateSnapshot: { numberOfKeys: 3, lua: SNAPSHOT_SCRIPT },
}

/**
 * A storage several servers share through Redis: each server serves its own local clients, and
 * all of them one store, in one total order. Each batch of changes is appended to a log (a Redis
 * stream) by a Lua script that first checks the batch was made against the latest version, and
 * stores the answers to the calls that made them in the same step: a server that lost the race gets
 * `{ conflict: true }`, takes the changes it missed and runs its calls again; a call resent to
 * another server is answered from the record, never applied twice. Every server follows the log
 * with a blocking read and forwards each change to its own replicas.
 *
 * @example
 * ```ts
 * await using server = await createServer({
 *   store: demoStore,
 *   id: 'counter',
 *   storage: redisStorage({ url: 'redis://localhost:6379', key: 'my-app' }),
 * })
 * ```
 * @throws TypeError when an option is invalid
 */
export function redisStorage(options: RedisStorageOptions): Storage {
  return new RedisStorage(parseRedisStorageOptions(options))
}

class RedisStorage implements Storage {
  readonly #settings: RedisStorageSettings
  readonly #keys: StoreKeys
  #context: StorageContext | undefined
  #redis: Connection | undefined
  #follower: Connection | undefined
  /** The last log entry handed to the server. */
  #position: LogPosition = { version: 0, seq: 0 }
  /** The version of the latest snapshot in Redis, as last seen. */
  #snapshot = -1
  #storeVersion = 1
  /** Reads of the log and what they hand over, one after the other. */
  #serial: Promise<unknown> = Promise.resolve()
  #closed = false
  /** This server, as the commit script knows it when it gives turns. */
  readonly #id = randomUUID()
  /** Writes waiting for the log to move past a position. */
  readonly #moved = new Set<{ position: LogPosition; resolve(): void }>()
  #stopFollowing: (() => Promise<void>) | undefined

  constructor(settings: RedisStorageSettings) {
    this.#settings = settings
    const { key } = settings
    this.#keys = { meta: `${key}:meta`, log: `${key}:log`, snapshot: `${key}:snapshot`, turn: `${key}:turn` }
  }

  async open(context: StorageContext): Promise<LoadedStore> {
    this.#context = context
    const redis = createConnection(this.#settings, false, SCRIPTS)
    watchConnection(redis, this.#settings, context.logger)
    await connect(redis, this.#settings)
    this.#redis = redis
    try {
      this.#storeVersion = context.storeVersion
      const { store: loaded, position, snapshot } = await openStore(redis, this.#keys, context, this.#settings)
      this.#position = position
      this.#snapshot = snapshot
      const follower = createConnection(this.#settings, true, {})
      // The other connection reports outages; without a listener, ioredis would print each error.
      follower.on('error', () => undefined)
      this.#follower = follower
      await connect(follower, this.#settings)
      // Its first entries come in a later I/O turn: after the server took in what `open` returns.
      this.#stopFollowing = followLog({
        redis: follower,
        log: this.#keys.log,
        from: () => streamId(this.#position),
        take: (entries) => this.#serially(() => this.#take(entries)),
        isClosed: () => this.#closed,
        logger: context.logger,
      })
      context.logger.info?.('following the store in Redis', {
        url: this.#settings.safeUrl,
        key: this.#settings.key,
        version: loaded.version,
      })
      return loaded
    } catch (error) {
      await this.close()
      throw error instanceof IpcStateError || error instanceof TypeError
        ? error
        : unavailable(this.#settings, 'loading the store', error)
    }
  }

  // biome-ignore lint/suspicious/noConfusingVoidType: the signature of Storage.write
  async write(entries: readonly StorageEntry[]): Promise<void | WriteConflict> {
    const redis = this.#redis!
    const first = entries.find((entry) => entry.kind === 'change')
    const base = first === undefined ? -1 : first.version - 1
    let reply: CommitReply
    try {
      if (first !== undefined && base - this.#snapshot >= this.#settings.snapshotEvery) await this.#writeSnapshot()
      const { meta, log, turn } = this.#keys
      const args = encodeEntries(entries)
      for (;;) {
        reply = await redis.ipcStateCommit(meta, log, turn, base, '', streamId(this.#position), this.#id, ...args)
        if (reply[0] !== 2) break
        // Another server that lost a race has the turn: the same batch goes again once its change
        // came in (then it conflicts, and runs again on top), or its turn is over.
        await this.#logMovedPast({ version: reply[1], seq: reply[2] })
      }
    } catch (error) {
      throw unavailable(this.#settings, 'storing a change', error)
    }
    const [status, head, , snapshot, missed = []] = reply
    if (status === -1) throw this.#gone()
    this.#snapshot = snapshot
    if (status === 1) return
    if (head < base) throw this.#behind(head, base)
    try {
      await this.#serially(async () => {
        await this.#take(missed)
        if (missed.length >= MISSED_PAGE) await this.#catchUp()
      })
    } catch (error) {
      throw unavailable(this.#settings, 'reading the changes of other servers', error)
    }
    return { conflict: true }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    this.#follower?.disconnect()
    await this.#stopFollowing?.()
    await this.#serial.catch(() => undefined)
    await this.#redis?.quit().catch(() => this.#redis?.disconnect())
  }

  /** Resolves once the log was read past `position`, or the turn of another server is over. */
  #logMovedPast(position: LogPosition): Promise<void> {
    if (isAfter(this.#position, position)) return Promise.resolve()
    return new Promise((resolve) => {
      const waiter = {
        position,
        resolve: () => {
          clearTimeout(timer)
          this.#moved.delete(waiter)
          resolve()
        },
      }
      // Not a wait for readiness: the longest another server's turn lasts.
      const timer = setTimeout(waiter.resolve, TURN_MS)
      this.#moved.add(waiter)
    })
  }

  /** Hands `updates` to the server, and wakes the writes that waited for the log to move. */
  #handOver(updates: ExternalUpdate[]): void {
    if (updates.length > 0) this.#context!.receive(updates)
    for (const waiter of this.#moved) if (isAfter(this.#position, waiter.position)) waiter.resolve()
  }

  /** Reads the log from the last entry handed over, and hands over what follows. */
  async #catchUp(): Promise<void> {
    for (;;) {
      const page = (await this.#redis!.xrange(this.#keys.log, `(${streamId(this.#position)}`, '+', 'COUNT', PAGE)) as StreamEntry[]
      await this.#take(page)
      if (page.length < PAGE) return
    }
  }

  /**
   * Hands the entries after the last one handed over to the server, in order. A hole (the log was
   * trimmed past this server) makes it reload the latest snapshot instead: never a gap.
   */
  async #take(entries: readonly StreamEntry[]): Promise<void> {
    const updates: ExternalUpdate[] = []
    for (const entry of entries) {
      const position = positionOf(entry[0])
      if (!isAfter(position, this.#position)) continue
      if (!follows(this.#position, position)) {
        this.#handOver(updates)
        const {
          store,
          position: loadedAt,
          snapshot,
        } = await loadStore(this.#redis!, this.#keys, this.#context!, this.#context!.newEpoch)
        this.#position = loadedAt
        this.#snapshot = snapshot
        this.#handOver([{ kind: 'reload', store }])
        return
      }
      updates.push(decodeEntry(entry))
      this.#position = position
    }
    this.#handOver(updates)
  }

  async #writeSnapshot(): Promise<void> {
    const image = this.#context!.image()
    const snapshot = encodeSnapshot(image.version, this.#storeVersion, image.instances, image.stateJson)
    const { meta, snapshot: key, log } = this.#keys
    this.#snapshot = await this.#redis!.ipcStateSnapshot(meta, key, log, image.version, snapshot)
  }

  #serially<T>(step: () => Promise<T>): Promise<T> {
    const next = this.#serial.then(step)
    this.#serial = next.catch(() => undefined)
    return next
  }

  /**
   * Redis holds an older version than this server served: it lost changes it had acknowledged (a
   * crash with `appendfsync everysec`, a restore from an old backup). Writing on would fork the
   * store, and running the calls again would never end: every call fails until the servers restart.
   */
  #behind(head: number, served: number): IpcStateError {
    const message =
      `The store in Redis at ${this.#settings.safeUrl} (key ${this.#settings.key}) is at version ${head}, behind this server's ${served}: ` +
      'Redis lost changes it had acknowledged. Restart the servers to go on from what Redis holds'
    this.#context!.logger.error?.(message)
    return new IpcStateError(ErrorCode.BACKEND_UNAVAILABLE, message, {
      data: { url: this.#settings.safeUrl, version: head, served },
    })
  }

  #gone(): IpcStateError {
    return new IpcStateError(
      ErrorCode.BACKEND_UNAVAILABLE,
      `The store is gone from Redis at ${this.#settings.safeUrl} (key ${this.#settings.key}:meta): was the database flushed? Restart the servers to start a new store`,
    )
  }
}
