/** The bounds of a {@link CallRecord}. */
export interface CallRecordLimits {
  /** Answers kept per client instance; the oldest goes first. */
  dedupWindow: number
  /** Client instances whose answers are kept; the least recently active goes first. */
  maxRememberedClients: number
}

/**
 * The record of answered calls that makes a resent call exactly-once: per client instance, the
 * answers to its recent action calls as they were sent, plus the calls taken but not answered
 * yet, plus the connection each instance uses now. `C` is that connection, whatever the caller
 * sends answers through.
 *
 * Bounded: at most `dedupWindow × maxRememberedClients` answers are held.
 */
export class CallRecord<C> {
  readonly #limits: CallRecordLimits
  /** Recent answers per client instance, as sent, oldest first; instances least recently active first. */
  readonly #answers = new Map<string, Map<number, string>>()
  /** Calls taken but not answered yet: a resend must not queue them again. */
  readonly #unanswered = new Set<string>()
  /**
   * The connection each client instance uses now: answers go there, even for a call an earlier
   * connection of the same instance sent.
   */
  readonly #current = new Map<string, C>()

  constructor(limits: CallRecordLimits) {
    this.#limits = limits
  }

  /** Makes `connection` the one `instanceId`'s answers go to from now on. */
  attach(instanceId: string, connection: C): void {
    this.#current.set(instanceId, connection)
  }

  /** Forgets `connection` as `instanceId`'s, unless another connection has taken over since. */
  detach(instanceId: string, connection: C): void {
    if (this.#current.get(instanceId) === connection) this.#current.delete(instanceId)
  }

  /** The answer sent to call `id` of `instanceId`, as it was sent, if it is still held. */
  answerTo(instanceId: string, id: number): string | undefined {
    return this.#answers.get(instanceId)?.get(id)
  }

  /** Whether call `id` of `instanceId` was taken and waits for its answer. */
  isUnanswered(instanceId: string, id: number): boolean {
    return this.#unanswered.has(key(instanceId, id))
  }

  /** Notes that call `id` of `instanceId` was taken: it will be answered through {@link answer}. */
  take(instanceId: string, id: number): void {
    this.#unanswered.add(key(instanceId, id))
  }

  /**
   * Keeps `frame` as the answer to call `id` of `instanceId`, and returns the connection it goes
   * to: the instance's current one, if it has one.
   */
  answer(instanceId: string, id: number, frame: string): C | undefined {
    this.#unanswered.delete(key(instanceId, id))
    let known = this.#answers.get(instanceId)
    if (known === undefined) {
      known = new Map()
      if (this.#answers.size >= this.#limits.maxRememberedClients) {
        this.#answers.delete(this.#answers.keys().next().value!)
      }
    } else {
      this.#answers.delete(instanceId)
    }
    // Re-inserting keeps the map in least-recently-active order.
    this.#answers.set(instanceId, known)
    known.set(id, frame)
    if (known.size > this.#limits.dedupWindow) known.delete(known.keys().next().value!)
    return this.#current.get(instanceId)
  }
}

/** The id after the last NUL is a number, so no two calls share a key, whatever an instance id holds. */
const key = (instanceId: string, id: number): string => `${instanceId}\0${id}`
