// What one turn of the event loop sends: every change to every replica and every answer to its caller, one frame of each per connection.
import { ErrorCode, IpcStateError } from '@ipc-state/protocol'
import { encodeResponse, encodeResponses, encodeStateChanged, joinPatches } from '@ipc-state/protocol/wire'
import type { ChangeHistory } from '../state/change-history.js'
import { SharedBytes } from './memory-budget.js'

/** What a {@link FanOut} needs from a connection. */
export interface FanOutReplica {
  /**
   * Whether the peer offered batched frames in its hello: it then gets a turn's changes as one
   * frame, the answers that change shows inside it, and its other answers as one frame.
   */
  readonly batch?: boolean
  /**
   * Set while answers for the connection are gathered: anything else written to it first has what
   * was gathered sent (see {@link FanOut.flush}), so that a peer reads its answers in the order of
   * its requests.
   */
  gathered: boolean
  /** Writes a frame: a change shared with other replicas, or text for this connection alone. */
  send(frame: SharedBytes | string): void
  refuse(error: IpcStateError): void
}

/** One change gathered this turn. */
interface Change {
  version: number
  patchesJson: string
  action: string | undefined
  clientId: string | undefined
}

/**
 * What one turn of the event loop sends to its connections. Changes and answers are gathered as
 * they are made, and sent once the read that led to them is done (the sessions flush at the end of
 * each read's callback) or, for work that finished later (a write to the storage), at the end of
 * the turn: never later than the event loop's next wait. First each replica gets the changes, then
 * each caller its answers.
 *
 * A peer that offered batched frames gets the changes in one frame, from the first version to the
 * last, their patches one after the other, encoded once into bytes every such replica's socket is
 * given as they are: a thousand replicas that have not read it yet hold one copy, not a thousand.
 * A replica that called some of them gets instead a frame of its own with the answers to those
 * calls inside, so it settles them as it applies the change; its other answers, and all of a
 * caller without a replica, go in one frame. A peer that did not offer batched frames gets one
 * frame per version, encoded once too, and one frame per answer, in the order they always came.
 *
 * Whatever else is written to a connection that has answers gathered (a snapshot, an error, a
 * resent call's answer) has what was gathered sent first, so a peer reads its answers in the order
 * of its requests. A snapshot is at the newest version, so a change still gathered when one goes
 * to a replica is one that replica then already holds, and passes over, the answers it carries aside.
 */
export class FanOut<R extends FanOutReplica> {
  readonly #replicas = new Set<R>()
  readonly #history: ChangeHistory | undefined
  /** The last change frame sent to batched replicas, and to the others: each is linked to the next (see SharedBytes.next). */
  #lastBatch: SharedBytes | undefined
  #lastSingle: SharedBytes | undefined
  #epoch = ''
  #changes: Change[] = []
  /** Answers that go inside this turn's change, by replica. */
  #carried = new Map<R, string[]>()
  /** Answers that go on their own, by connection, in the order they came. */
  #answers = new Map<R, string[]>()
  #scheduled = false
  /** Set while this sends: a connection it writes to must not make it flush again (see FanOutReplica.gathered). */
  #sending = false

  /** @param history where each change is kept too, for `changes/list` */
  constructor(history?: ChangeHistory) {
    this.#history = history
  }

  /** Replicas served now. */
  get size(): number {
    return this.#replicas.size
  }

  /** Sends every later change to `replica`; what was gathered before goes to the others only. */
  add(replica: R): void {
    this.#sendChanges()
    this.#replicas.add(replica)
  }

  /** Sends nothing more to `replica`. */
  delete(replica: R): void {
    this.#replicas.delete(replica)
  }

  /**
   * Gathers one change, as patches already encoded (`patchesJson`), for every replica, attributed
   * to the `action` that made it and the `clientId` that called it. Called once per version, in
   * version order, so every replica sees the same sequence. Never throws: the change is already
   * committed, and its caller still gets its answer.
   */
  publish(epoch: string, version: number, patchesJson: string, action?: string, clientId?: string): void {
    this.#history?.add(version, patchesJson, action, clientId)
    if (this.#replicas.size === 0) {
      // Nobody to send it to; a replica that comes later starts from a snapshot.
      this.#changes = []
      this.#lastBatch = undefined
      this.#lastSingle = undefined
      return
    }
    const last = this.#changes.at(-1)
    // A batch covers consecutive versions of one server run: a jump (a reload) starts a frame of its own.
    if (last !== undefined && (epoch !== this.#epoch || version !== last.version + 1)) this.#sendChanges()
    this.#epoch = epoch
    this.#changes.push({ version, patchesJson, action, clientId })
    this.#schedule()
  }

  /**
   * Gathers the answer to one of `connection`'s requests (`{ id, result }` or `{ id, error }`, as
   * JSON). `version` is the version the call made, when it changed the state: a batched replica
   * then finds the answer inside the change that shows it.
   */
  answer(connection: R, responseJson: string, version?: number): void {
    const first = this.#changes[0]
    const inside =
      version !== undefined &&
      connection.batch === true &&
      first !== undefined &&
      version >= first.version &&
      this.#replicas.has(connection)
    const gathered = inside ? this.#carried : this.#answers
    const answers = gathered.get(connection)
    if (answers === undefined) gathered.set(connection, [responseJson])
    else answers.push(responseJson)
    connection.gathered = true
    this.#schedule()
  }

  /** Sends what was gathered: the changes to every replica, then every answer. */
  flush(): void {
    if (this.#sending) return
    this.#sendChanges()
    if (this.#answers.size === 0) return
    const answers = this.#answers
    this.#answers = new Map()
    this.#sending = true
    try {
      for (const [connection, responses] of answers) {
        connection.gathered = false
        if (connection.batch === true) connection.send(encodeResponses(responses))
        else for (const response of responses) connection.send(encodeResponse(response))
      }
    } finally {
      this.#sending = false
    }
  }

  #schedule(): void {
    if (this.#scheduled) return
    this.#scheduled = true
    process.nextTick(this.#endOfTurn)
  }

  readonly #endOfTurn = (): void => {
    this.#scheduled = false
    this.flush()
  }

  #sendChanges(): void {
    const changes = this.#changes
    if (changes.length === 0 || this.#sending) return
    this.#changes = []
    const carried = this.#carried
    this.#carried = new Map()
    // Sent now; answers of its own may still wait (see flush).
    for (const connection of carried.keys()) connection.gathered = this.#answers.has(connection)
    const frames = new ChangeFrames(this.#epoch, changes)
    this.#sending = true
    try {
      // A replica that cannot keep up is refused by its own send, or cut to make room for all:
      // either removes it from this set, and deleting while iterating a Set is safe.
      for (const replica of this.#replicas) {
        if (replica.batch !== true) {
          const singles = frames.singles(this.#lastSingle)
          this.#lastSingle = singles.at(-1)
          for (const frame of singles) replica.send(frame)
          continue
        }
        const answers = carried.get(replica)
        if (answers !== undefined) {
          replica.send(frames.carrying(answers))
          continue
        }
        this.#lastBatch = frames.batch(this.#lastBatch)
        replica.send(this.#lastBatch)
      }
    } catch (error) {
      // The store runtime bounds every change, so this is a lack of memory. A replica that missed
      // a change must not go on as if it had not: each reconnects and resyncs from a snapshot.
      const reason = error instanceof Error ? error.message : String(error)
      const lost = new IpcStateError(
        ErrorCode.INTERNAL_ERROR,
        `The change to version ${changes.at(-1)!.version} could not be encoded: ${reason}`,
      )
      this.#lastBatch = undefined
      this.#lastSingle = undefined
      for (const replica of this.#replicas) replica.refuse(lost)
    } finally {
      this.#sending = false
    }
  }
}

/** The frames of one turn's changes, each made at most once, when a replica first needs it. */
class ChangeFrames {
  readonly #epoch: string
  readonly #changes: readonly Change[]
  #patchesJson: string | undefined
  #batch: SharedBytes | undefined
  #singles: SharedBytes[] | undefined

  constructor(epoch: string, changes: readonly Change[]) {
    this.#epoch = epoch
    this.#changes = changes
  }

  /** The changes as one frame, linked to `previous`, the last one sent to batched replicas. */
  batch(previous: SharedBytes | undefined): SharedBytes {
    if (this.#batch !== undefined) return this.#batch
    const frame = SharedBytes.of(this.#encode(undefined), 'change')
    // Linked before it is queued anywhere: a replica behind holds the run from its oldest change on
    // as one entry (the chain also keeps those changes alive, and the budget counts them once).
    if (previous !== undefined) previous.next = frame
    this.#batch = frame
    return frame
  }

  /** The changes as one frame for one replica, with the answers to its calls they show. */
  carrying(answersJson: readonly string[]): string {
    return this.#encode(answersJson)
  }

  /**
   * One frame per change, each linked to the one before (the first to `previous`), for replicas that
   * read no batch.
   */
  singles(previous: SharedBytes | undefined): readonly SharedBytes[] {
    if (this.#singles === undefined) {
      const frames: SharedBytes[] = []
      let last = previous
      for (const { version, patchesJson, action, clientId } of this.#changes) {
        const frame = SharedBytes.of(encodeStateChanged(this.#epoch, version, patchesJson, { action, clientId }), 'change')
        if (last !== undefined) last.next = frame
        last = frame
        frames.push(frame)
      }
      this.#singles = frames
    }
    return this.#singles
  }

  #encode(answersJson: readonly string[] | undefined): string {
    const changes = this.#changes
    const first = changes[0]!
    const last = changes.at(-1)!
    let { action, clientId } = first
    for (const change of changes) {
      // Named only when every change of the batch shares it.
      if (change.action !== action) action = undefined
      if (change.clientId !== clientId) clientId = undefined
    }
    this.#patchesJson ??= joinPatches(changes.map((change) => change.patchesJson))
    return encodeStateChanged(this.#epoch, last.version, this.#patchesJson, { action, clientId, from: first.version, answersJson })
  }
}
