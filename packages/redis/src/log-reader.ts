// The shared log as one server reads it: each entry after its position handed to the server once, in order, and a whole store where the log was trimmed past it.
import { ErrorCode, IpcStateError } from '@ipc-state/protocol'
import type { ExternalUpdate, StorageContext } from '@ipc-state/server'
import type { Connection } from './connection.js'
import { type LogPosition, type StreamEntry, follows, isAfter, positionOf, readEntry, streamId } from './log-entries.js'
import { type Loaded, PAGE, type StoreKeys, loadStore } from './load-store.js'
import type { RedisStorageSettings } from './redis-options.js'
import { TURN_MS } from './scripts.js'
import { damaged, lost, tooNew } from './store-errors.js'

/** What a {@link LogReader} reads with, and tells its storage. */
export interface LogReaderOptions {
  keys: StoreKeys
  settings: RedisStorageSettings
  context: StorageContext
  /** The connection that reads pages of the log and snapshots (not the one that blocks on it). */
  redis: Connection
  /** The epoch of the store the server loaded. */
  epoch(): string
  /** Why the storage refused the store for good, if it did. */
  refused(): IpcStateError | undefined
  /** Refuses the store for good: returns the error every write gets from now on. */
  refuse(error: IpcStateError): IpcStateError
  /** The store was loaded again from the latest snapshot (the log was trimmed past this server). */
  reloaded(loaded: Loaded): void
}

/**
 * Hands the server (`StorageContext.receive`) the log entries after the last one it handed over,
 * one step at a time ({@link serially}): what the follower read, what a lost race returned, what a
 * catch-up read. An entry the server cannot take, or one of a newer store version, refuses the store.
 */
export class LogReader {
  /** The last log entry handed to the server. */
  position: LogPosition = { version: 0, seq: 0 }
  readonly #options: LogReaderOptions
  /** Reads of the log and what they hand over, one after the other. */
  #serial: Promise<unknown> = Promise.resolve()
  /** Writes waiting for the log to move past a position. */
  readonly #moved = new Set<{ position: LogPosition; resolve(): void }>()

  constructor(options: LogReaderOptions) {
    this.#options = options
  }

  /** Runs `step` after every step before it settled. */
  serially<T>(step: () => Promise<T>): Promise<T> {
    const next = this.#serial.then(step)
    this.#serial = next.catch(() => undefined)
    return next
  }

  /** Resolves once every step settled. */
  async settled(): Promise<void> {
    await this.#serial.catch(() => undefined)
  }

  /**
   * This server's own entries were written right after the log's entry `before`, up to `after`: a
   * reader that had read up to `before` has read them too (the server made them).
   */
  wrote(before: string, after: LogPosition): void {
    if (before !== streamId(this.position)) return
    this.position = after
    for (const waiter of this.#moved) if (isAfter(this.position, waiter.position)) waiter.resolve()
  }

  /** Resolves once the log was read past `position`, or the turn of another server is over. */
  movedPast(position: LogPosition): Promise<void> {
    if (isAfter(this.position, position)) return Promise.resolve()
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

  /** Wakes every write that waits for the log to move: the store was refused. */
  wakeAll(): void {
    for (const waiter of this.#moved) waiter.resolve()
  }

  /** What the follower read, if the store is still the one this server loaded (`epoch` says). */
  async takeFollowed(entries: readonly StreamEntry[], epoch: string | null): Promise<void> {
    const { refused, refuse, settings, keys } = this.#options
    if (refused() !== undefined) return
    if (epoch !== this.#options.epoch()) throw refuse(lost(settings, keys.meta, epoch, this.#options.epoch()))
    await this.take(entries)
  }

  /** Refuses the store when it is gone, or another one than this server loaded (unless it was `closed`). */
  async checkIdentity(closed: () => boolean): Promise<void> {
    const { redis, keys, refused, refuse, settings } = this.#options
    if (refused() !== undefined || closed()) return
    const epoch = await redis.hget(keys.meta, 'epoch')
    if (epoch !== this.#options.epoch()) throw refuse(lost(settings, keys.meta, epoch, this.#options.epoch()))
  }

  /** Reads the log from the last entry handed over, and hands over what follows. */
  async catchUp(): Promise<void> {
    const { redis, keys, refused } = this.#options
    for (;;) {
      // A store refused meanwhile is not read again (an entry that made it refused may be large).
      if (refused() !== undefined) return
      const page = (await redis.xrange(keys.log, `(${streamId(this.position)}`, '+', 'COUNT', PAGE)) as StreamEntry[]
      await this.take(page)
      if (page.length < PAGE || refused() !== undefined) return
    }
  }

  /**
   * Hands the entries after the last one handed over to the server, in order. A hole (the log was
   * trimmed past this server) makes it reload the latest snapshot instead: never a gap.
   */
  async take(entries: readonly StreamEntry[]): Promise<void> {
    const { refused, refuse, keys, settings, context } = this.#options
    if (refused() !== undefined) return
    const updates: ExternalUpdate[] = []
    const ids: string[] = []
    for (const entry of entries) {
      const id = String(entry[0])
      let read: ReturnType<typeof readEntry>
      try {
        read = readEntry(entry, context.maxEntryBytes)
      } catch (error) {
        this.#handOver(updates, ids)
        throw refuse(damaged(keys.log, (error as Error).message, id))
      }
      const position = positionOf(id)
      if (!isAfter(position, this.position)) continue
      if (!follows(this.position, position)) {
        this.#handOver(updates, ids)
        let loaded: Loaded
        try {
          loaded = await loadStore(this.#options.redis, keys, context, settings, context.newEpoch, this.#options.epoch())
        } catch (error) {
          if (error instanceof IpcStateError && error.code !== ErrorCode.BACKEND_UNAVAILABLE) throw refuse(error)
          throw error
        }
        this.position = loaded.position
        this.#options.reloaded(loaded)
        this.#handOver([{ kind: 'reload', store: loaded.store }], ['the snapshot'])
        return
      }
      if (read.storeVersion !== undefined && read.storeVersion > context.storeVersion) {
        // A server of a newer store version migrated the store: its state is not this server's.
        this.#handOver(updates, ids)
        throw refuse(tooNew(settings, read.storeVersion, context.storeVersion))
      }
      updates.push(read.update)
      ids.push(id)
      this.position = position
    }
    this.#handOver(updates, ids)
  }

  /**
   * Hands `updates` (read from the log entries `ids`) to the server one by one, and wakes the
   * writes that waited for the log to move. One the server cannot apply refuses the store.
   */
  #handOver(updates: ExternalUpdate[], ids: string[]): void {
    for (const [i, update] of updates.entries()) {
      try {
        this.#options.context.receive([update])
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error)
        throw this.#options.refuse(damaged(this.#options.keys.log, `its change does not apply to the state: ${reason}`, ids[i]))
      }
    }
    for (const waiter of this.#moved) if (isAfter(this.position, waiter.position)) waiter.resolve()
  }
}
