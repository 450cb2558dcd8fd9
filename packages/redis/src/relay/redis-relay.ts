// Calls relayed to the writer through Redis streams, and its replies back: one stream of calls, one of replies per server.
import { ErrorCode, IpcStateError, type Logger } from '@ipc-state/protocol'
import type { CallRelay, RelayTarget, RelayedCall, RelayedReply, StorageContext } from '@ipc-state/server'
import { type Connection, unavailable } from '../connection.js'
import type { RedisStorageSettings } from '../redis-options.js'
import { checkLog, readLog } from '../follow-log.js'
import type { StreamEntry } from '../log-entries.js'
import type { LogReader } from '../log-reader.js'
import type { StoreKeys } from '../load-store.js'
import { encodeCalls, encodeReplies, readCalls, readReplies } from './relay-entries.js'
import { MAX_NOTICES } from '../scripts.js'
import { dropNonStreams, unblock, wrongType } from './stream-repair.js'
import { WriterLease } from './writer-lease.js'

/** Replies a server's stream keeps at most when that server reads none. */
const MAX_REPLIES = 10_000
/** The one entry that only wakes a server's blocking read (it became the writer, and reads the calls from now on). */
const WAKE = ['w', '']
/** The field of a notice the commit script adds to the calls stream when a server other than the writer wrote to the log. */
const NOTICE = 'n'

/** What a {@link RedisRelay} uses. */
export interface RedisRelayOptions {
  redis: Connection
  /** Its `key` prefixes the replies streams; its `serverLease` is the writer's too. */
  settings: RedisStorageSettings
  /** The store's keys: the log, the calls stream, the writer's lease, the meta key. */
  keys: StoreKeys
  serverId: string
  /** Its `relay` takes what the streams hand over; its `maxEntryBytes` bounds a frame or a reply taken from them. */
  context: Pick<StorageContext, 'maxEntryBytes' | 'logger'> & { relay: RelayTarget }
  /** Why the storage takes no more changes, for good: calls are then run (and refused) where they came. */
  refusal(): IpcStateError | undefined
  /** The server's reader of the log: the writer reads the log with it when it is told to. */
  reader: LogReader
  /** The epoch of the store the server loaded: a lease is taken only of it. */
  epoch(): string
  /** Whether the server follows the log yet (it may have to migrate the store first). */
  following(): boolean
}

/**
 * Relays calls to the writer and its replies back, through Redis: a server that is not the writer
 * appends the calls of one turn as one entry of `<key>:calls`; the writer reads that stream (in its
 * blocking read, beside its replies: it reads the log at notices instead), runs the calls, and trims
 * what it read. Replies to calls that changed nothing go to `<key>:replies:<server>`, which that
 * server reads. What a stream holds is checked before it is taken: one no server wrote is left out.
 */
export class RedisRelay implements CallRelay {
  readonly #options: RedisRelayOptions
  readonly #callsKey: string
  readonly #repliesKey: string
  readonly #logger: Logger
  #lease: WriterLease | undefined
  /** A server's replies stream expires this long after the last reply written to it (its server died). */
  #repliesTtlMs = 0
  #outgoing: RelayedCall[] = []
  #replies = new Map<string, RelayedReply[]>()
  #scheduled = false
  /** Where the next read of each stream starts. */
  #callsFrom = '0-0'
  #repliesFrom = '0-0'
  /** The stream id before which the calls stream holds only what this server, the writer, read. */
  #trimTo: string | undefined
  /** A read of the log asked for and not started yet (see `#readLogNow`). */
  #waitingRead: Promise<void> | undefined

  constructor(options: RedisRelayOptions) {
    this.#options = options
    this.#callsKey = options.keys.calls
    this.#repliesKey = repliesKey(options.settings.key, options.serverId)
    this.#logger = options.context.logger
  }

  /** Takes the writer's lease when no server holds it, and keeps looking (see {@link WriterLease}). */
  async start(): Promise<void> {
    const { redis, serverId, keys } = this.#options
    const leaseMs = this.#options.settings.serverLease
    const target = this.#options.context.relay
    this.#repliesTtlMs = leaseMs * 4
    const events = {
      writing: () => this.#becameWriter(),
      changed: () => {
        // The blocking read takes the log again, or no more: it wakes to read what it should.
        this.#wake()
        target.relayAgain()
      },
      // Whether the log holds what the writer has not read (another program wrote to it).
      renewed: () => {
        const { redis, reader, following, refusal } = this.#options
        if (following() && refusal() === undefined) checkLog(redis, keys.log, reader, () => this.#readLog())
        this.#trim()
      },
    }
    this.#lease = new WriterLease(redis, keys, this.#options.epoch, serverId, leaseMs, events, this.#logger)
    await this.#lease.start()
    // Calls relayed and not answered when Redis goes away fail, as commits under way do.
    redis.on('close', () => target.relayAgain())
    // A notice may have come while the writer could not read the log.
    redis.on('ready', () => {
      if (this.writing) this.#readLog()
    })
  }

  /** Gives the writer's lease up, when this server holds it. */
  async stop(): Promise<void> {
    await this.#lease?.stop()
  }

  /** Whether this server runs calls itself: it is the writer, or the storage refuses every write (the calls fail where they came). */
  get writing(): boolean {
    return this.#lease?.writing === true || this.#options.refusal() !== undefined
  }

  forward(calls: readonly RelayedCall[]): void {
    this.#outgoing.push(...calls)
    this.#schedule()
  }

  reply(to: string, replies: readonly RelayedReply[]): void {
    const list = this.#replies.get(to)
    if (list === undefined) this.#replies.set(to, [...replies])
    else list.push(...replies)
    this.#schedule()
  }

  /** This server became the writer: it reads every call still in the stream, and its blocking read wakes to start. */
  #becameWriter(): void {
    this.#callsFrom = '0-0'
    // What was written before this server stopped following the log, and after its last read of it.
    this.#readLog()
  }

  /** The writer reads the log now: it became the writer, or a notice says another server wrote to it. */
  #readLog(): void {
    void this.#readLogNow()
  }

  /**
   * Removes what the writer read from the calls stream, at each renewal of its lease rather than at
   * each read (a command less per batch): a server whose calls the writer took and did not answer
   * (it died first) relays them again to the next writer.
   */
  #trim(): void {
    if (this.#trimTo === undefined) return
    this.#options.redis.xtrim(this.#callsKey, 'MINID', this.#trimTo).catch(() => undefined)
    this.#trimTo = undefined
  }

  #wake(): void {
    const { redis } = this.#options
    redis.xadd(this.#repliesKey, '*', ...WAKE).catch(() => undefined)
    redis.pexpire(this.#repliesKey, this.#repliesTtlMs).catch(() => undefined)
  }

  /** The streams the blocking read takes beside the log: this server's replies, and the calls while it is the writer. */
  streams(): (readonly [string, string])[] {
    const streams: (readonly [string, string])[] = [[this.#repliesKey, this.#repliesFrom]]
    if (this.writing) streams.push([this.#callsKey, this.#callsFrom])
    return streams
  }

  /** Takes what the blocking read found in one of {@link streams}. */
  async take(key: string, entries: readonly StreamEntry[]): Promise<void> {
    const last = entries.at(-1)
    if (last === undefined) return
    const target = this.#options.context.relay
    const logger = this.#logger
    const maxBytes = this.#options.context.maxEntryBytes
    if (key === this.#repliesKey) {
      this.#repliesFrom = last[0]
      for (const [id, fields] of entries) {
        if (fields.length === 2 && fields[0] === WAKE[0]) continue
        const replies = readReplies(fields, maxBytes)
        if (typeof replies === 'string')
          logger.warn?.('an entry of the replies stream is not a reply: left out', { key, id, why: replies })
        else target.replied(replies, `${key}, entry ${id}`)
      }
      if (unblock(this.#options.redis, key, last[0], this.#logger)) this.#repliesFrom = '0-0'
      return
    }
    if (key !== this.#callsKey) return
    this.#callsFrom = last[0]
    // Trimmed at the next renewal of the lease (see `#trim`).
    this.#trimTo = after(last[0])
    // A call runs on every change committed before it was relayed, its client's hello among them:
    // after a read of the log under way (this server just became the writer), and after the log
    // is read at a notice that came before it.
    const { reader, following } = this.#options
    if (following()) await reader.serially(() => Promise.resolve())
    let notice = false
    for (const [id, fields] of entries) {
      if (fields.length === 2 && fields[0] === NOTICE) {
        notice = true
        continue
      }
      if (notice) await this.#readLogNow()
      notice = false
      const calls = readCalls(fields, maxBytes)
      if (typeof calls === 'string')
        logger.warn?.('an entry of the calls stream is not a relayed call: left out', { key, id, why: calls })
      else target.run(calls, `${key}, entry ${id}`)
    }
    if (unblock(this.#options.redis, key, last[0], this.#logger)) {
      this.#callsFrom = '0-0'
      this.#trimTo = undefined
    }
    if (notice) this.#readLog()
  }

  /** Reads the log now, and resolves once it was read (or could not be: a later notice or look reads it). */
  #readLogNow(): Promise<void> {
    if (!this.#options.following()) return Promise.resolve()
    // A read asked for while another waits to start is that one: it reads all that came by then.
    this.#waitingRead ??= readLog(this.#options.reader, this.#logger, () => {
      this.#waitingRead = undefined
    })
    return this.#waitingRead
  }

  /** Drops a relay key another program made something else than a stream (see `dropNonStreams`). */
  repair(keys: readonly string[] = [this.#repliesKey, this.#callsKey]): Promise<void> {
    return dropNonStreams(this.#options.redis, keys, this.#logger)
  }

  #schedule(): void {
    if (this.#scheduled) return
    this.#scheduled = true
    // What one turn relays goes as one entry: calls read from one socket read arrive together.
    queueMicrotask(() => this.#flush())
  }

  /**
   * `calls` but those whose frame is longer than a writer takes from the stream (`maxEntryBytes`,
   * its `maxStateBytes`), which are answered `FRAME_TOO_LARGE` at once: the writer would leave out
   * the whole entry, and every call in it would wait for an answer that never comes.
   */
  #withinBound(calls: readonly RelayedCall[]): RelayedCall[] {
    const maxBytes = this.#options.context.maxEntryBytes
    const within: RelayedCall[] = []
    for (const call of calls) {
      const bytes = Buffer.byteLength(call.frame)
      if (bytes <= maxBytes) within.push(call)
      else {
        const error = new IpcStateError(
          ErrorCode.FRAME_TOO_LARGE,
          `A call of ${bytes} bytes is more than the writer of the store in Redis takes (option maxStateBytes: ${maxBytes}): it was not run`,
          { data: { bytes, maxStateBytes: maxBytes } },
        )
        this.#options.context.relay.refused([call], error)
      }
    }
    return within
  }

  #flush(): void {
    this.#scheduled = false
    const { redis, serverId } = this.#options
    const failed = (what: string) => (error: Error) => this.#logger.debug?.(`relaying ${what} failed`, { error: error.message })
    const outgoing = this.#outgoing
    this.#outgoing = []
    const calls = this.#withinBound(outgoing)
    if (calls.length > 0) {
      // Refused at once when Redis is away, as a commit is; one lost on its way may have reached the
      // stream and run, as a commit under way may have been written.
      const { relay } = this.#options.context
      const refusal = this.#options.refusal()
      const doing = 'relaying a call to the writer'
      if (refusal !== undefined) relay.refused(calls, refusal)
      else if (redis.status !== 'ready')
        relay.refused(calls, unavailable(this.#options.settings, doing, 'the connection is not ready'))
      else
        redis.xadd(this.#callsKey, 'MAXLEN', '~', MAX_NOTICES, '*', ...encodeCalls(serverId, calls)).catch((error: unknown) => {
          relay.refused(calls, unavailable(this.#options.settings, doing, error))
          // The writer blocked on it may not learn (an older Redis keeps it blocked): whoever meets it drops it.
          if (wrongType(error)) void this.repair([this.#callsKey]).catch(() => undefined)
        })
    }
    for (const [to, replies] of this.#replies) {
      const key = repliesKey(this.#options.settings.key, to)
      redis.xadd(key, 'MAXLEN', '~', MAX_REPLIES, '*', ...encodeReplies(replies)).catch((error: Error) => {
        failed('replies')(error)
        if (wrongType(error)) void this.repair([key]).catch(() => undefined)
      })
      redis.pexpire(key, this.#repliesTtlMs).catch(failed('replies'))
    }
    this.#replies.clear()
  }
}

/** The key of the stream of replies to server `serverId`. */
export function repliesKey(key: string, serverId: string): string {
  return `${key}:replies:${serverId}`
}

/** The smallest stream id after `id`. */
function after(id: string): string {
  const dash = id.indexOf('-')
  return `${id.slice(0, dash)}-${BigInt(id.slice(dash + 1)) + 1n}`
}
