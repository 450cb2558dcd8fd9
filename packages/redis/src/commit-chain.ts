// The order of one server's commits on their way to Redis: which one comes alone, and which is sent behind the one before it.
import type { IpcStateError } from '@ipc-state/protocol'
import type { StorageEntry, StoreImage, WriteConflict } from '@ipc-state/server'
import type { CommitReply, Connection } from './connection.js'
import { encodeEntries, streamId } from './log-entries.js'
import { type StoreKeys, commitArguments } from './load-store.js'
import type { LogReader } from './log-reader.js'
import type { RedisStorageSettings } from './redis-options.js'
import { encodeSnapshot } from './snapshot-key.js'
import { lost, tooNew } from './store-errors.js'

/** Commits one server has on their way to Redis at once, while none has to come alone. */
export const COMMITS_AT_ONCE = 8

/** What a storage's write resolves with: nothing once written, or the race it lost. */
// biome-ignore lint/suspicious/noConfusingVoidType: the signature of Storage.write
export type CommitOutcome = void | WriteConflict

/** Where a commit stands in its server's chain (the commit script's `commit` and `after`). */
export interface CommitLink {
  /** Its number among this server's commits. */
  commit: number
  /** The commit it was made on top of and sent behind, which has to be the last one written (`''`: none). */
  after: number | ''
  /** Whether every earlier commit settled, and was applied by the server, before this one was called. */
  alone: boolean
}

/**
 * Numbers a server's commits and says which one comes alone (see `Storage.writesAtOnce`). A commit
 * called while the one before it is still under way was made on top of it, so it is sent naming
 * it: the script writes it only right after that one. After a lost race or a failure, the server
 * goes on from what it caught up with or rolled back to, not from the commits under way: the next
 * ones come alone, naming none, until one that came alone is written.
 */
export class CommitChain {
  /** The highest version of a change handed to a commit: about where the next one starts. */
  version = 0
  #commits = 0
  #writing = 0
  /** The last commit called, while it is under way. */
  #underWay: number | undefined
  /** What the last {@link atOnce} said of the next commit; unset when nobody asked. */
  #alone: boolean | undefined
  #recovering = false

  /** How many commits may be under way at once: 1 when the next has to come alone (`alone`, or after a lost race or a failure). */
  atOnce(alone: boolean): number {
    this.#alone = alone || this.#recovering
    return this.#alone ? 1 : COMMITS_AT_ONCE
  }

  /** Runs `commit`, the commit of `entries`, with its place in the chain. */
  async run(entries: readonly StorageEntry[], commit: (link: CommitLink) => Promise<CommitOutcome>): Promise<CommitOutcome> {
    const alone = this.#alone ?? this.#writing === 0
    this.#alone = undefined
    const number = ++this.#commits
    const after = alone ? '' : (this.#underWay ?? '')
    this.#underWay = number
    for (const entry of entries) if (entry.kind === 'change') this.version = Math.max(this.version, entry.version)
    this.#writing++
    try {
      const result = await commit({ commit: number, after, alone })
      if (result !== undefined) this.#recovering = true
      else if (alone) this.#recovering = false
      return result
    } catch (error) {
      this.#recovering = true
      throw error
    } finally {
      this.#writing--
      if (this.#underWay === number) this.#underWay = undefined
    }
  }
}

/** What {@link sendCommit} sends with: the store, and who this server is in it. */
export interface CommitTarget {
  redis: Connection
  keys: StoreKeys
  reader: LogReader
  serverId: string
  epoch: string
  storeVersion: number
  /** Why the server refuses the store, once it does. */
  refused(): IpcStateError | undefined
  /** The version of the store's snapshot, as this server last saw it. */
  snapshot(): number
}

/**
 * Sends the commit of `entries`, made against version `base`, in its place `link`; sends it again
 * while another server that lost a race has the turn.
 */
export async function sendCommit(
  target: CommitTarget,
  base: number,
  link: CommitLink,
  entries: readonly StorageEntry[],
): Promise<CommitReply> {
  const { redis, keys, reader } = target
  const args = encodeEntries(entries)
  for (;;) {
    const head = commitArguments(base, '', streamId(reader.position), target.serverId, target.epoch, target.storeVersion, link)
    const reply = await redis.ipcStateCommit(keys.meta, keys.log, keys.turn, keys.writer, keys.calls, ...head, ...args)
    if (reply[0] !== 2) return reply
    // Another server that lost a race has the turn: wait for its change, or for its turn to be over.
    await reader.movedPast({ version: reply[1], seq: reply[2] })
    const refused = target.refused()
    if (refused !== undefined) throw refused
    // Its change came in (the follower handed it over): this batch, made against the version
    // before, would lose the race. It runs again on top, and the turn is this server's next.
    const { version, seq } = reader.position
    if (base >= 0 && version > base) return [0, version, seq, target.snapshot(), []]
  }
}

/**
 * Stores `image` as the store's snapshot, which trims the log before it (see `SNAPSHOT_SCRIPT`).
 * @returns the version of the snapshot stored after it; -1 when the store is gone or another one, -2 when a newer store version migrated it
 */
export function storeSnapshot(target: CommitTarget, image: StoreImage): Promise<number> {
  const { keys, epoch, storeVersion } = target
  const snapshot = encodeSnapshot(image.version, storeVersion, image.instances, image.stateJson, image.present)
  return target.redis.ipcStateSnapshot(keys.meta, keys.snapshot, keys.log, image.version, snapshot, epoch, storeVersion)
}

/**
 * Stores `image` as the store's snapshot: the version of the snapshot stored after it, or the error
 * to refuse the store with (it is gone or another one, or a newer store version migrated it).
 */
export async function writeSnapshot(
  target: CommitTarget,
  image: StoreImage,
  settings: RedisStorageSettings,
): Promise<number | IpcStateError> {
  const stored = await storeSnapshot(target, image)
  const { meta } = target.keys
  if (stored === -1) return lost(settings, meta, await target.redis.hget(meta, 'epoch').catch(() => null), target.epoch)
  if (stored === -2) return tooNew(settings, target.storeVersion + 1, target.storeVersion)
  return stored
}
