// The storage several servers share through Redis: compare-and-append of each batch, and the shared log followed.
import { randomUUID } from 'node:crypto'
import { ErrorCode, IpcStateError } from '@ipc-state/protocol'
import type {
  ExternalUpdate,
  MigratedImage,
  Storage,
  StorageContext,
  StorageEntry,
  StoredLog,
  WriteConflict,
} from '@ipc-state/server'
import {
  type CommitReply,
  type Connection,
  connect,
  createConnection,
  isNotPermitted,
  notPermitted,
  unavailable,
  watchConnection,
} from './connection.js'
import { followLog } from './follow-log.js'
import {
  type LogPosition,
  type StreamEntry,
  encodeEntries,
  follows,
  isAfter,
  positionOf,
  readEntry,
  streamId,
} from './log-entries.js'
import { type RedisStorageOptions, type RedisStorageSettings, parseRedisStorageOptions } from './redis-options.js'
import { encodeSnapshot } from './snapshot-key.js'
import {
  type Loaded,
  PAGE,
  type StoreKeys,
  appendMigration,
  commitArguments,
  damaged,
  loadStore,
  openStore,
  tooNew,
} from './load-store.js'
import { COMMIT_SCRIPT, INIT_SCRIPT, MISSED_PAGE, PERMISSIONS_SCRIPT, SNAPSHOT_SCRIPT, TURN_MS } from './scripts.js'

const SCRIPTS = {
  ipcStateCommit: { numberOfKeys: 3, lua: COMMIT_SCRIPT },
  ipcStateInit: { numberOfKeys: 3, lua: INIT_SCRIPT },
  ipcStateSnapshot: { numberOfKeys: 3, lua: SNAPSHOT_SCRIPT },
  ipcStatePermissions: { numberOfKeys: 4, lua: PERMISSIONS_SCRIPT },
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
  /** The epoch of the store this server loaded: its identity, checked on every commit. */
  #epoch = ''
  /** Why this server takes no more changes from the store, nor writes to it; for good. */
  #refused: IpcStateError | undefined
  /**
   * The version the last lost race handed the server up to: a change made against an older one
   * means the server could not take one of them.
   */
  #handedUpTo = -1
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

  async open(context: StorageContext): Promise<StoredLog> {
    this.#context = context
    const redis = createConnection(this.#settings, false, SCRIPTS)
    watchConnection(redis, this.#settings, context.logger)
    await connect(redis, this.#settings)
    this.#redis = redis
    try {
      // A user whose ACL lacks a command the storage needs is refused now, not at its first call.
      const missing = await this.#missingPermissions()
      if (missing !== '') throw notPermitted(this.#settings, 'starting', missing)
      this.#storeVersion = context.storeVersion
      const loaded = await openStore(redis, this.#keys, context, this.#settings)
      const follower = createConnection(this.#settings, true, {})
      // The other connection reports outages; without a listener, ioredis would print each error.
      follower.on('error', () => undefined)
      this.#follower = follower
      await connect(follower, this.#settings)
      // Redis came back (restarted, failed over): is it still the store this server loaded?
      redis.on('ready', () => void this.#serially(() => this.#checkIdentity(redis)).catch(() => undefined))
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
      const from = { epoch: this.#epoch, position: this.#position }
      if (await appendMigration(redis, this.#keys, from, image, this.#id)) {
        this.#position = { version: image.version, seq: 0 }
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

  /**
   * Takes in `loaded` as the store this server starts from, and follows the log after it, unless
   * the server has to migrate it first (a migration another server wrote meanwhile would make the
   * server's own refused). Its first entries come in a later I/O turn: after the server took in
   * what `open` or `migrate` returns.
   */
  #loaded(loaded: Loaded): StoredLog {
    this.#epoch = loaded.store.epoch
    this.#position = loaded.position
    this.#snapshot = loaded.snapshot
    let current = loaded.store.storeVersion
    for (const entry of loaded.store.entries) if (entry.kind === 'change') current = entry.storeVersion ?? current
    if (current === this.#storeVersion) this.#follow()
    return loaded.store
  }

  #follow(): void {
    if (this.#stopFollowing !== undefined) return
    this.#stopFollowing = followLog({
      redis: this.#follower!,
      log: this.#keys.log,
      from: () => streamId(this.#position),
      meta: this.#keys.meta,
      take: (entries, epoch) => this.#serially(() => this.#takeFollowed(entries, epoch)),
      isClosed: () => this.#closed || this.#refused !== undefined,
      logger: this.#context!.logger,
    })
  }

  #openError(error: unknown): unknown {
    return error instanceof IpcStateError || error instanceof TypeError
      ? error
      : unavailable(this.#settings, 'loading the store', error)
  }

  // biome-ignore lint/suspicious/noConfusingVoidType: the signature of Storage.write
  async write(entries: readonly StorageEntry[]): Promise<void | WriteConflict> {
    if (this.#refused !== undefined) throw this.#refused
    const redis = this.#redis!
    const first = entries.find((entry) => entry.kind === 'change')
    const base = first === undefined ? -1 : first.version - 1
    // After a lost race the server took every change up to the winner's: one made against an older
    // version means the change after it did not apply here. Running the calls again would lose the
    // same race for ever.
    if (first !== undefined && base < this.#handedUpTo) {
      throw this.#refuse(
        damaged(this.#keys.log, "its change does not apply to this server's state", streamId({ version: base + 1, seq: 0 })),
      )
    }
    let reply: CommitReply
    try {
      if (first !== undefined && base - this.#snapshot >= this.#settings.snapshotEvery) await this.#writeSnapshot()
      const { meta, log, turn } = this.#keys
      const args = encodeEntries(entries)
      for (;;) {
        const head = commitArguments(base, '', streamId(this.#position), this.#id, this.#epoch, this.#storeVersion)
        reply = await redis.ipcStateCommit(meta, log, turn, ...head, ...args)
        if (reply[0] !== 2) break
        // Another server that lost a race has the turn: the same batch goes again once its change
        // came in (then it conflicts, and runs again on top), or its turn is over.
        await this.#logMovedPast({ version: reply[1], seq: reply[2] })
        if (this.#refused !== undefined) throw this.#refused
      }
    } catch (error) {
      if (this.#refused !== undefined) throw this.#refused
      if (error instanceof IpcStateError) throw error
      if (isNotPermitted(error)) throw await this.#notPermitted('storing a change', error)
      throw unavailable(this.#settings, 'storing a change', error)
    }
    const [status, head, , snapshot, missed = []] = reply
    if (status < 0) throw this.#refuse(this.#refusal(reply))
    this.#snapshot = snapshot
    if (status === 1) return
    if (head < base) throw this.#behind(head, base)
    try {
      await this.#serially(async () => {
        await this.#take(missed)
        if (missed.length >= MISSED_PAGE) await this.#catchUp()
      })
    } catch (error) {
      if (this.#refused !== undefined) throw this.#refused
      throw unavailable(this.#settings, 'reading the changes of other servers', error)
    }
    if (this.#refused !== undefined) throw this.#refused
    this.#handedUpTo = Math.max(this.#handedUpTo, head)
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

  /**
   * Hands `updates` (read from the log entries `ids`) to the server one by one, and wakes the
   * writes that waited for the log to move. One the server cannot apply refuses the store.
   */
  #handOver(updates: ExternalUpdate[], ids: string[]): void {
    for (const [i, update] of updates.entries()) {
      try {
        this.#context!.receive([update])
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error)
        throw this.#refuse(damaged(this.#keys.log, `its change does not apply to the state: ${reason}`, ids[i]))
      }
    }
    for (const waiter of this.#moved) if (isAfter(this.#position, waiter.position)) waiter.resolve()
  }

  /** What the follower read, if the store is still the one this server loaded (`epoch` says). */
  async #takeFollowed(entries: readonly StreamEntry[], epoch: string | null): Promise<void> {
    if (this.#refused !== undefined) return
    if (epoch !== this.#epoch) throw this.#refuse(epoch === null ? this.#gone() : this.#replaced(epoch))
    await this.#take(entries)
  }

  /** Refuses the store when it is gone, or another one than this server loaded. */
  async #checkIdentity(redis: Connection): Promise<void> {
    if (this.#refused !== undefined || this.#closed) return
    const epoch = await redis.hget(this.#keys.meta, 'epoch')
    if (epoch === this.#epoch) return
    throw this.#refuse(epoch === null ? this.#gone() : this.#replaced(epoch))
  }

  /** Reads the log from the last entry handed over, and hands over what follows. */
  async #catchUp(): Promise<void> {
    for (;;) {
      const page = (await this.#redis!.xrange(this.#keys.log, `(${streamId(this.#position)}`, '+', 'COUNT', PAGE)) as StreamEntry[]
      await this.#take(page)
      if (page.length < PAGE || this.#refused !== undefined) return
    }
  }

  /**
   * Hands the entries after the last one handed over to the server, in order. A hole (the log was
   * trimmed past this server) makes it reload the latest snapshot instead: never a gap.
   */
  async #take(entries: readonly StreamEntry[]): Promise<void> {
    if (this.#refused !== undefined) return
    const updates: ExternalUpdate[] = []
    const ids: string[] = []
    for (const entry of entries) {
      const id = String(entry[0])
      let read: ReturnType<typeof readEntry>
      try {
        read = readEntry(entry, this.#context!.maxEntryBytes)
      } catch (error) {
        this.#handOver(updates, ids)
        throw this.#refuse(damaged(this.#keys.log, (error as Error).message, id))
      }
      const position = positionOf(id)
      if (!isAfter(position, this.#position)) continue
      if (!follows(this.#position, position)) {
        this.#handOver(updates, ids)
        const context = this.#context!
        let loaded: Awaited<ReturnType<typeof loadStore>>
        try {
          loaded = await loadStore(this.#redis!, this.#keys, context, this.#settings, context.newEpoch, this.#epoch)
        } catch (error) {
          if (error instanceof IpcStateError && error.code !== ErrorCode.BACKEND_UNAVAILABLE) throw this.#refuse(error)
          throw error
        }
        this.#position = loaded.position
        this.#snapshot = loaded.snapshot
        this.#handOver([{ kind: 'reload', store: loaded.store }], ['the snapshot'])
        return
      }
      if (read.storeVersion !== undefined && read.storeVersion > this.#storeVersion) {
        // A server of a newer store version migrated the store: its state is not this server's.
        this.#handOver(updates, ids)
        throw this.#refuse(tooNew(this.#settings, read.storeVersion, this.#storeVersion))
      }
      updates.push(read.update)
      ids.push(id)
      this.#position = position
    }
    this.#handOver(updates, ids)
  }

  async #writeSnapshot(): Promise<void> {
    const image = this.#context!.image()
    const snapshot = encodeSnapshot(image.version, this.#storeVersion, image.instances, image.stateJson)
    const { meta, snapshot: key, log } = this.#keys
    const stored = await this.#redis!.ipcStateSnapshot(meta, key, log, image.version, snapshot, this.#epoch, this.#storeVersion)
    if (stored === -1) throw this.#refuse(await this.#identityLost())
    if (stored === -2) throw this.#refuse(tooNew(this.#settings, this.#storeVersion + 1, this.#storeVersion))
    this.#snapshot = stored
  }

  /** The commands the storage needs that Redis does not permit its user, as a message says them. */
  async #missingPermissions(): Promise<string> {
    const { meta, log, snapshot, turn } = this.#keys
    const missing = await this.#redis!.ipcStatePermissions(meta, log, snapshot, turn)
    return missing.length === 0 ? '' : `no permission for ${missing.join(', ')}`
  }

  /** `BACKEND_UNAVAILABLE` for a command Redis did not permit: naming what the user lacks, when Redis can tell. */
  async #notPermitted(doing: string, error: unknown): Promise<IpcStateError> {
    const missing = await this.#missingPermissions().catch(() => '')
    return missing === '' ? unavailable(this.#settings, doing, error) : notPermitted(this.#settings, doing, missing)
  }

  /** Why the store is not the one this server loaded: gone, or another one. */
  async #identityLost(): Promise<IpcStateError> {
    const epoch = await this.#redis!.hget(this.#keys.meta, 'epoch').catch(() => null)
    return epoch === null ? this.#gone() : this.#replaced(epoch)
  }

  /** The error a refusing commit reply stands for (see scripts.ts). */
  #refusal([status, detail]: CommitReply): IpcStateError {
    const { meta, log } = this.#keys
    switch (status) {
      case -1:
        return this.#gone()
      case -2:
        return damaged(log, 'the last entry of the log is not one this storage wrote', String(detail))
      case -3:
        return this.#replaced(String(detail))
      case -4:
        return tooNew(this.#settings, Number(detail), this.#storeVersion)
      default:
        return damaged(meta, 'its version, epoch or store version is not one ipc-state wrote')
    }
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
    for (const waiter of this.#moved) waiter.resolve()
    return error
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

  /** The store this server loaded is gone from Redis: it lost its data. */
  #gone(): IpcStateError {
    return damaged(
      this.#keys.meta,
      `the store this server loaded is gone from Redis at ${this.#settings.safeUrl} (was the database flushed?); restart the servers to start a new store`,
    )
  }

  /** Redis holds another store under the key than this server loaded: it was flushed and made again. */
  #replaced(epoch: string): IpcStateError {
    return damaged(
      this.#keys.meta,
      `Redis at ${this.#settings.safeUrl} holds another store (epoch ${epoch.slice(0, 40)}) than this server loaded (epoch ${this.#epoch}): ` +
        'it lost its data and was made again; restart this server to serve the new store',
    )
  }
}
