// The storage several servers share through Redis: compare-and-append of each batch, and the shared log followed.
import { randomUUID } from 'node:crypto'
import { IpcStateError } from '@ipc-state/protocol'
import type { MigratedImage, Storage, StorageContext, StorageEntry, StoredLog } from '@ipc-state/server'
import {
  type CommitReply,
  type Connection,
  connect,
  createConnection,
  isNotPermitted,
  missingPermissions,
  permissionError,
  notPermitted,
  unavailable,
  watchConnection,
} from './connection.js'
import { type CommitLink, type CommitOutcome, CommitChain, sendCommit, writeSnapshot } from './commit-chain.js'
import { followLog, readLog } from './follow-log.js'
import { streamId } from './log-entries.js'
import { LogReader } from './log-reader.js'
import { type RedisStorageOptions, type RedisStorageSettings, parseRedisStorageOptions } from './redis-options.js'
import { ServerLease, leaseKey } from './server-lease.js'
import { RedisRelay } from './relay/redis-relay.js'
import { type Loaded, type StoreKeys, appendMigration, openStore } from './load-store.js'
import { MISSED_PAGE, SCRIPTS } from './scripts.js'
import { behind, damaged, refusal } from './store-errors.js'

/**
 * A storage several servers share through Redis: each server serves its own local clients, and
 * all of them one store, in one total order. One server, the writer (elected by a lease), runs
 * every call: the others relay their clients' calls to it through Redis and answer them from the
 * log. Each batch of changes is appended to the log (a stream) by a Lua script that first checks it
 * was made against the latest version, with the answers to the calls that made them: a write that
 * lost a race (a server's own hello or hook beside the writer's calls) is run again on top. Every
 * server follows the log with a blocking read and forwards each change to its own replicas.
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
  /** What this server read of the log, and hands to it. */
  #reader: LogReader | undefined
  /** The version of the latest snapshot in Redis, as last seen. */
  #snapshot = -1
  #storeVersion = 1
  /** The epoch of the store this server loaded: its identity, checked on every commit. */
  #epoch = ''
  /** Why this server takes no more changes from the store, nor writes to it; for good. */
  #refused: IpcStateError | undefined
  /** The version a lost race handed the server up to: a change made against an older one means it could not take one. */
  #handedUpTo = -1
  #closed = false
  /** This server, as the commit script knows it when it gives turns. */
  readonly #id = randomUUID()
  #stopFollowing: (() => Promise<void>) | undefined
  /** This server's commits on their way to Redis. */
  readonly #chain = new CommitChain()
  /** This server's lease, held from `open` on (see `ServerLeases`). */
  leases: ServerLease | undefined
  /** The relay of calls to the writer, from `open` on, when the server takes relayed calls (see `CallRelay`). */
  relay: RedisRelay | undefined

  constructor(settings: RedisStorageSettings) {
    this.#settings = settings
    const { key } = settings
    this.#keys = {
      meta: `${key}:meta`,
      log: `${key}:log`,
      snapshot: `${key}:snapshot`,
      turn: `${key}:turn`,
      lease: leaseKey(key, this.#id),
      writer: `${key}:writer`,
      calls: `${key}:calls`,
    }
  }

  async open(context: StorageContext): Promise<StoredLog> {
    this.#context = context
    const redis = createConnection(this.#settings, false, SCRIPTS)
    watchConnection(redis, this.#settings, context.logger)
    await connect(redis, this.#settings)
    this.#redis = redis
    this.#reader = new LogReader({
      keys: this.#keys,
      settings: this.#settings,
      context,
      redis,
      epoch: () => this.#epoch,
      refused: () => this.#refused,
      refuse: (error) => this.#refuse(error),
      reloaded: (loaded) => {
        this.#snapshot = loaded.snapshot
      },
    })
    try {
      // A user whose ACL lacks a command the storage needs is refused now, not at its first call.
      const missing = await missingPermissions(redis, this.#keys)
      if (missing !== '') throw notPermitted(this.#settings, 'starting', missing)
      this.#storeVersion = context.storeVersion
      const loaded = await openStore(redis, this.#keys, context, this.#settings)
      this.#epoch = loaded.store.epoch
      this.leases = new ServerLease(redis, this.#settings.key, this.#id, this.#settings.serverLease, context.logger)
      await this.leases.start()
      const relay = context.relay // one server runs every call; the first to start is that one at once
      if (relay !== undefined && this.#settings.relayCalls) {
        const own = { redis, settings: this.#settings, keys: this.#keys, serverId: this.#id, reader: this.#reader }
        const state = { refusal: () => this.#refused, epoch: () => this.#epoch, following: () => this.#stopFollowing !== undefined }
        this.relay = new RedisRelay({ ...own, ...state, context: { ...context, relay } })
      }
      await this.relay?.start()
      const follower = createConnection(this.#settings, true, {})
      // The other connection reports outages; without a listener, ioredis would print each error.
      follower.on('error', () => undefined)
      this.#follower = follower
      await connect(follower, this.#settings)
      // Redis came back (restarted, failed over): is it still the store this server loaded?
      const reader = this.#reader
      redis.on('ready', () => void reader.serially(() => reader.checkIdentity(() => this.#closed)).catch(() => undefined))
      context.logger.info?.('following the store in Redis', {
        url: this.#settings.safeUrl,
        key: this.#settings.key,
        version: loaded.position.version,
      })
      return this.#loaded(loaded)
    } catch (error) {
      await this.close()
      throw this.#openError(error)
    }
  }

  async migrate(image: MigratedImage): Promise<StoredLog | undefined> {
    const redis = this.#redis!
    try {
      const from = { epoch: this.#epoch, position: this.#reader!.position }
      if (await appendMigration(redis, this.#keys, from, image, this.#id)) {
        this.#reader!.position = { version: image.version, seq: 0 }
        this.#context!.logger.info?.('migrated the store in Redis', { to: image.storeVersion, version: image.version })
        this.#follow()
        return undefined
      }
      // Another server wrote or migrated first: the server starts over from the store as it is now.
      return this.#loaded(await openStore(redis, this.#keys, this.#context!, this.#settings))
    } catch (error) {
      await this.close()
      throw this.#openError(error)
    }
  }

  /** Several commits at once, each sent as its batch comes (see `Storage.writesAtOnce`); one alone when a snapshot is due. */
  writesAtOnce(): number {
    return this.#chain.atOnce(this.#refused !== undefined || this.#chain.version - this.#snapshot >= this.#settings.snapshotEvery)
  }

  write(entries: readonly StorageEntry[]): Promise<CommitOutcome> {
    return this.#chain.run(entries, (link) => this.#commit(entries, link))
  }

  async #commit(entries: readonly StorageEntry[], link: CommitLink): Promise<CommitOutcome> {
    if (this.#refused !== undefined) throw this.#refused
    const [redis, reader] = [this.#redis!, this.#reader!]
    const first = entries.find((entry) => entry.kind === 'change')
    const base = first === undefined ? -1 : first.version - 1
    // After a lost race the server took every change up to the winner's: one made against an older
    // version means the change after it did not apply here. Running the calls again would lose the
    // same race for ever. (One sent behind another was made before the race, and loses with it.)
    if (first !== undefined && link.alone && base < this.#handedUpTo) {
      throw this.#refuse(
        damaged(this.#keys.log, "its change does not apply to this server's state", streamId({ version: base + 1, seq: 0 })),
      )
    }
    let reply: CommitReply
    try {
      const target = { redis, keys: this.#keys, reader, serverId: this.#id, epoch: this.#epoch, storeVersion: this.#storeVersion }
      const to = { ...target, refused: () => this.#refused, snapshot: () => this.#snapshot }
      // Only alone: the snapshot is the state every earlier commit made, applied.
      if (first !== undefined && link.alone && base - this.#snapshot >= this.#settings.snapshotEvery) {
        const stored = await writeSnapshot(to, this.#context!.image(), this.#settings)
        if (typeof stored !== 'number') throw this.#refuse(stored)
        this.#snapshot = stored
      }
      reply = await sendCommit(to, base, link, entries)
    } catch (error) {
      if (this.#refused !== undefined) throw this.#refused
      if (error instanceof IpcStateError) throw error
      if (isNotPermitted(error)) throw await permissionError(redis, this.#keys, this.#settings, 'storing a change', error)
      throw unavailable(this.#settings, 'storing a change', error)
    }
    const [status, head, , snapshot, missed = []] = reply
    if (status < 0) throw this.#refuse(refusal(reply, this.#settings, this.#keys, this.#storeVersion, this.#epoch))
    this.#snapshot = snapshot
    if (status === 1) {
      if (typeof reply[5] === 'string') reader.wrote(reply[5], { version: head, seq: reply[2] })
      return
    }
    // Behind its server's commit that was not written, a batch finds the store short of its base.
    if (head < base && link.after === '') {
      const error = behind(this.#settings, head, base)
      this.#context!.logger.error?.(error.message)
      throw error
    }
    try {
      await reader.serially(async () => {
        await reader.take(missed)
        if (missed.length >= MISSED_PAGE) await reader.catchUp()
      })
    } catch (error) {
      if (this.#refused !== undefined) throw this.#refused
      throw unavailable(this.#settings, 'reading the changes of other servers', error)
    }
    if (this.#refused !== undefined) throw this.#refused
    // Not one sent behind a refused commit: the server ignores its refusal, and may not have taken its changes yet.
    if (link.after === '') this.#handedUpTo = Math.max(this.#handedUpTo, head)
    return { conflict: true }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.relay?.stop()
    await this.leases?.stop()
    this.#follower?.disconnect()
    await this.#stopFollowing?.()
    await this.#reader?.settled()
    await this.#redis?.quit().catch(() => this.#redis?.disconnect())
  }

  /**
   * Takes in `loaded` as the store this server starts from, and follows the log after it unless the
   * server has to migrate it first. Its first entries come in a later I/O turn: after the server
   * took in what `open` or `migrate` returns.
   */
  #loaded(loaded: Loaded): StoredLog {
    this.#epoch = loaded.store.epoch
    this.#reader!.position = loaded.position
    this.#snapshot = loaded.snapshot
    let current = loaded.store.storeVersion
    for (const entry of loaded.store.entries) if (entry.kind === 'change') current = entry.storeVersion ?? current
    if (current === this.#storeVersion) this.#follow()
    return loaded.store
  }

  #follow(): void {
    if (this.#stopFollowing !== undefined) return
    const reader = this.#reader!
    this.#stopFollowing = followLog({
      redis: this.#follower!,
      log: this.#keys.log,
      from: () => streamId(reader.position),
      meta: this.#keys.meta,
      take: (entries, epoch) => reader.serially(() => reader.takeFollowed(entries, epoch)),
      isClosed: () => this.#closed || this.#refused !== undefined,
      logger: this.#context!.logger,
      side: this.relay,
      readsLog: () => this.relay?.writing !== true,
    })
    if (this.relay?.writing) readLog(this.#reader!, this.#context!.logger)
  }

  #openError(error: unknown): unknown {
    return error instanceof IpcStateError || error instanceof TypeError
      ? error
      : unavailable(this.#settings, 'loading the store', error)
  }

  /**
   * Stops writing to the store and taking changes from it, for good, and says why once: every
   * write from now on fails with `error` without asking Redis.
   */
  #refuse(error: IpcStateError): IpcStateError {
    if (this.#refused !== undefined) return this.#refused
    this.#refused = error
    this.#context!.logger.error?.(`${error.message}. This server refuses every change from now on, and serves reads as they were`, {
      code: error.code,
      url: this.#settings.safeUrl,
      ...(typeof error.data === 'object' ? error.data : {}),
    })
    this.#follower?.disconnect()
    this.#reader?.wakeAll()
    // Another server runs the calls from now on; those this one relayed fail here.
    void this.relay?.stop()
    this.#context!.relay?.relayAgain()
    return error
  }
}
