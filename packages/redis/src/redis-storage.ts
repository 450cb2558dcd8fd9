import { ErrorCode, IpcStateError } from '@ipc-state/protocol'
import type { LoadedStore, Storage, StorageContext, StorageEntry, WriteConflict } from '@ipc-state/server'
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
import { decodeSnapshot, encodeSnapshot, replay, storeFrom } from './replay-log.js'
import { COMMIT_SCRIPT, INIT_SCRIPT, MISSED_PAGE, SNAPSHOT_SCRIPT } from './scripts.js'

const SCRIPTS = {
  ipcStateCommit: { numberOfKeys: 2, lua: COMMIT_SCRIPT },
  ipcStateInit: { numberOfKeys: 1, lua: INIT_SCRIPT },
  ipcStateSnapshot: { numberOfKeys: 3, lua: SNAPSHOT_SCRIPT },
}

/** Entries read from the log at once. */
const PAGE = 1_000

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
  readonly #keys: { meta: string; log: string; snapshot: string }
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
  #stopFollowing: (() => Promise<void>) | undefined

  constructor(settings: RedisStorageSettings) {
    this.#settings = settings
    this.#keys = { meta: `${settings.key}:meta`, log: `${settings.key}:log`, snapshot: `${settings.key}:snapshot` }
  }

  async open(context: StorageContext): Promise<LoadedStore> {
    this.#context = context
    const redis = createConnection(this.#settings, false, SCRIPTS)
    watchConnection(redis, this.#settings, context.logger)
    await connect(redis, this.#settings)
    this.#redis = redis
    try {
      const loaded = await this.#openStore(context)
      const follower = createConnection(this.#settings, true, {})
      this.#follower = follower
      await connect(follower, this.#settings)
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
      const position = streamId(this.#position)
      reply = await redis.ipcStateCommit(this.#keys.meta, this.#keys.log, base, '', position, ...encodeEntries(entries))
    } catch (error) {
      throw unavailable(this.#settings, 'storing a change', error)
    }
    const [status, , , snapshot, missed = []] = reply
    if (status === -1) throw this.#gone()
    this.#snapshot = snapshot
    if (status === 1) return
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

  /** Makes the store when Redis holds none, loads it, and migrates it to this store version. */
  async #openStore(context: StorageContext): Promise<LoadedStore> {
    const redis = this.#redis!
    this.#storeVersion = context.storeVersion
    const [epoch, , , stored] = await redis.ipcStateInit(this.#keys.meta, context.newEpoch, context.storeVersion)
    const storeVersion = Number(stored)
    if (storeVersion > context.storeVersion) {
      throw new IpcStateError(
        ErrorCode.STORE_TOO_NEW,
        `The store in Redis at ${this.#settings.safeUrl} (key ${this.#settings.key}) was written by store version ${storeVersion}; this server runs version ${context.storeVersion}`,
        { data: { stored: storeVersion, running: context.storeVersion } },
      )
    }
    const loaded = await this.#load(epoch!)
    if (storeVersion === context.storeVersion) return loaded
    // Migrated once, by whichever server gets there first; the others see the new store version.
    const state = context.migrate(loaded.state, storeVersion)
    const migration: StorageEntry = {
      kind: 'change',
      version: loaded.version + 1,
      patchesJson: JSON.stringify([{ op: 'replace', path: [], value: state }]),
      instanceId: '',
      id: 0,
      valueJson: undefined,
    }
    const [status] = await redis.ipcStateCommit(
      this.#keys.meta,
      this.#keys.log,
      loaded.version,
      context.storeVersion,
      ...encodeEntries([migration]),
    )
    if (status === -1) throw this.#gone()
    if (status === 0) return this.#openStore(context)
    this.#position = { version: migration.version, seq: 0 }
    context.logger.info?.('migrated the store in Redis', { from: storeVersion, to: context.storeVersion })
    return { ...loaded, state, version: migration.version }
  }

  /** Loads the latest snapshot and the log after it. */
  async #load(epoch: string): Promise<LoadedStore> {
    const redis = this.#redis!
    const context = this.#context!
    for (let attempt = 0; ; attempt++) {
      const bytes = await redis.getBuffer(this.#keys.snapshot)
      const snapshot = bytes === null ? undefined : decodeSnapshot(bytes)
      const store = storeFrom(snapshot ?? { state: JSON.parse(context.initialStateJson), version: 0, instances: [] })
      this.#snapshot = snapshot?.version ?? -1
      let position: LogPosition = { version: store.version, seq: 0 }
      let complete = true
      for (;;) {
        const page = (await redis.xrange(this.#keys.log, `(${streamId(position)}`, '+', 'COUNT', PAGE)) as StreamEntry[]
        const first = page[0]
        if (first !== undefined && !follows(position, positionOf(first[0]))) {
          complete = false
          break
        }
        replay(store, page.map(decodeEntry), context.answersKept)
        if (page.length > 0) position = positionOf(page[page.length - 1]![0])
        if (page.length < PAGE) break
      }
      // A newer snapshot trimmed the log between the two reads: read both again.
      if (!complete && attempt < 5) continue
      if (!complete)
        throw new IpcStateError(ErrorCode.STORE_DAMAGED, `The log in Redis at ${this.#settings.safeUrl} misses entries`)
      this.#position = position
      return { epoch, version: store.version, state: store.state, instances: [...store.instances.values()] }
    }
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
    const updates = []
    for (const entry of entries) {
      const position = positionOf(entry[0])
      if (!isAfter(position, this.#position)) continue
      if (!follows(this.#position, position)) {
        if (updates.length > 0) this.#context!.receive(updates)
        const store = await this.#load(this.#context!.newEpoch)
        this.#context!.receive([{ kind: 'reload', store }])
        return
      }
      updates.push(decodeEntry(entry))
      this.#position = position
    }
    if (updates.length > 0) this.#context!.receive(updates)
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

  #gone(): IpcStateError {
    return new IpcStateError(
      ErrorCode.BACKEND_UNAVAILABLE,
      `The store is gone from Redis at ${this.#settings.safeUrl} (key ${this.#settings.key}:meta): was the database flushed? Restart the servers to start a new store`,
    )
  }
}
