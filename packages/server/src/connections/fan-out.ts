// The replicas each change goes to, encoded once and shared by all of them.
import { ErrorCode, IpcStateError } from '@ipc-state/protocol'
import { encodeStateChanged } from '@ipc-state/protocol/wire'
import type { ChangeHistory } from '../state/change-history.js'
import { SharedBytes } from './memory-budget.js'

/** What a {@link FanOut} needs from a replica's connection. */
export interface FanOutReplica {
  send(frame: SharedBytes): void
  refuse(error: IpcStateError): void
}

/**
 * The replicas a change goes to: every session that asked for one in its handshake and is still
 * served. Each change is encoded once, into bytes that every replica's socket is given as they are:
 * a thousand replicas that have not read it yet hold one copy, not a thousand.
 */
export class FanOut<R extends FanOutReplica> {
  readonly #replicas = new Set<R>()
  readonly #history: ChangeHistory | undefined
  /** The last change published: the next one is linked to it (see SharedBytes.next). */
  #last: SharedBytes | undefined

  /** @param history where each change is kept too, for `changes/list` */
  constructor(history?: ChangeHistory) {
    this.#history = history
  }

  /** Replicas served now. */
  get size(): number {
    return this.#replicas.size
  }

  /** Sends every later change to `replica`. */
  add(replica: R): void {
    this.#replicas.add(replica)
  }

  /** Sends nothing more to `replica`. */
  delete(replica: R): void {
    this.#replicas.delete(replica)
  }

  /**
   * Sends one change, as patches already encoded (`patchesJson`), to every replica, attributed to
   * the `action` that made it and the `clientId` that called it. The action queue calls it once per
   * version, in version order, so every replica sees the same sequence.
   * Never throws: the change is already committed, and its caller still gets its answer.
   */
  publish(epoch: string, version: number, patchesJson: string, action?: string, clientId?: string): void {
    this.#history?.add(version, patchesJson, action, clientId)
    if (this.#replicas.size === 0) {
      // Nobody to send it to; a replica that comes later starts from a snapshot.
      this.#last = undefined
      return
    }
    let frame: SharedBytes
    try {
      frame = SharedBytes.of(encodeStateChanged(epoch, version, patchesJson, action, clientId), 'change')
    } catch (error) {
      // The store runtime bounds every change, so this is a lack of memory. A replica that missed
      // a change must not go on as if it had not: each reconnects and resyncs from a snapshot.
      const reason = error instanceof Error ? error.message : String(error)
      const lost = new IpcStateError(ErrorCode.INTERNAL_ERROR, `The change to version ${version} could not be encoded: ${reason}`)
      for (const replica of this.#replicas) replica.refuse(lost)
      return
    }
    // Linked before it is queued anywhere: a replica behind holds the run from its oldest change on
    // as one entry (the chain also keeps those changes alive, and the budget counts them once).
    if (this.#last !== undefined) this.#last.next = frame
    this.#last = frame
    // A replica that cannot keep up is refused by its own send, or cut to make room for all: either
    // removes it from this set, and deleting while iterating a Set is safe.
    for (const replica of this.#replicas) replica.send(frame)
  }
}
