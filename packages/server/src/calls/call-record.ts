// The record of answered calls per client instance, which makes action calls exactly-once across resends and restarts.
import { actionResultJson } from '@ipc-state/protocol/wire'
import type { StoredAnswer, StoredInstance } from '../storage/storage.js'
import { PendingCalls } from './pending-calls.js'

/** The bounds of a {@link CallRecord}. */
export interface CallRecordLimits {
  /** Answers kept per client instance; the oldest goes first. */
  dedupWindow: number
  /**
   * Client instances without a connection whose records are kept once `answerGrace` has passed;
   * the one idle longest goes first. Instances with a connection are always kept.
   */
  maxRememberedClients: number
  /**
   * Milliseconds an instance that lost its last connection keeps its record before it may be
   * forgotten to keep `maxRememberedClients`. `Infinity` keeps it until the hard bound needs room.
   */
  answerGrace: number
}

/** What the record says about an action call that arrives. */
export type CallStatus =
  /** Applied before: send this answer again, as it was sent (the data of its `response`, as JSON). */
  | { kind: 'answered'; responseJson: string }
  /** Taken and not answered yet: its answer will go to the instance's current connection. */
  | { kind: 'pending' }
  /**
   * It may have been applied, and what would tell is gone: the instance's record was forgotten
   * (`expired`), or its answer was dropped to keep `dedupWindow` (`window`). Never apply it.
   */
  | { kind: 'unknown'; reason: 'expired' | 'window' }
  /** Never applied under this record: take it. */
  | { kind: 'new' }

interface Instance<C> {
  /**
   * The id of the hello that made this record. A client numbers its hellos and calls from one
   * counter and numbers a call only once connected, so a call below this id was numbered before the
   * record existed: it may have been applied under a record since forgotten.
   */
  readonly since: number
  /** Answers to calls that changed the state, by call id, oldest first. */
  readonly answers: Map<number, StoredAnswer>
  /** The highest id whose answer was dropped to keep `dedupWindow`, -1 while none was. */
  forgotten: number
  /** The instance's open connections; it is idle when there is none. */
  readonly connections: Set<C>
  /** Where its answers go: its newest connection, while that one is open. */
  current: C | undefined
  /** When its last connection closed, by the record's clock. */
  idleSince: number
  /** Whether the storage holds this record's start, so a restart knows the instance. */
  persisted: boolean
}

/**
 * The record of answered calls that makes action calls exactly-once: per client instance, the
 * answers to its recent calls that changed the state, the calls taken but not answered yet, and
 * the connections the instance uses now. `C` is a connection, whatever answers are sent through.
 *
 * A call is applied at most once. A resend is answered from the record; when the record cannot
 * tell any more whether the call was applied, the resend is `unknown` and must get an error,
 * never a second apply. How a resend is known without marking it on the wire: a client numbers its
 * hellos and calls from one counter, numbers a call only after a hello was answered, and gives
 * calls that were never written fresh ids above its current hello (see the client's call-queue.ts).
 * So under one record an id at or below a dropped answer's is a resend (`window`), and so is an id
 * below the hello that made the record (`expired`): it was numbered while an earlier, forgotten
 * record served the instance. (A `resend: true` flag on the wire could not tell whether the record
 * was made before or after the call was first written; the hello id does.)
 *
 * Only calls that changed the state are recorded: a call that failed or changed nothing may run
 * again on a resend with no effect applied twice, so it takes no room from the answers that matter.
 *
 * Bounded: an instance with a connection is never forgotten (there are at most as many as open
 * connections, `dedupWindow` answers each). Instances without one keep their record for
 * `answerGrace`; past it, the one idle longest is forgotten while more than `maxRememberedClients`
 * are idle. Whatever their grace, idle instances hold at most `maxRememberedClients ×
 * (dedupWindow + 1)` entries (one per instance and one per answer) between them, the one idle
 * longest forgotten first. Either way an idle instance that holds no answer goes before any that
 * does: a client that only made calls that failed never pushes out another's answer.
 */
export class CallRecord<C> {
  readonly #limits: CallRecordLimits
  readonly #now: () => number
  readonly #instances = new Map<string, Instance<C>>()
  /** Instances without a connection that hold no answer, in the order they lost their last one: the first to go. */
  readonly #idleEmpty = new Map<string, Instance<C>>()
  /** Instances without a connection that hold answers, in the order they lost their last one. */
  readonly #idleKept = new Map<string, Instance<C>>()
  /** Entries held by idle instances: one per instance and one per answer. */
  #idleEntries = 0
  readonly #unanswered = new PendingCalls()
  #learns = false

  /** @param now the clock `answerGrace` is measured on, in milliseconds */
  constructor(limits: CallRecordLimits, now: () => number = () => performance.now()) {
    this.#limits = limits
    this.#now = now
  }

  /** Client instances whose records are held. */
  get size(): number {
    return this.#instances.size
  }

  /**
   * Whether the storage must hold `instanceId`'s record before its hello `helloId` is answered:
   * the id of the hello that made (or will make) the record when it does not hold it yet, else
   * `undefined`. See {@link persisted}.
   */
  unpersisted(instanceId: string, helloId: number): number | undefined {
    const instance = this.#instances.get(instanceId)
    if (instance === undefined) return helloId
    return instance.persisted ? undefined : instance.since
  }

  /**
   * Makes `connection`, whose hello had id `helloId`, the one `instanceId`'s answers go to from
   * now on; the first hello of an instance this record does not hold makes its record.
   */
  attach(instanceId: string, connection: C, helloId: number): void {
    let instance = this.#instances.get(instanceId)
    if (instance === undefined) {
      instance = unconnected<C>({ since: helloId, answers: new Map(), forgotten: -1, idleSince: 0, persisted: false })
      this.#instances.set(instanceId, instance)
    } else if (this.#idleEmpty.delete(instanceId) || this.#idleKept.delete(instanceId)) {
      this.#idleEntries -= entries(instance)
    }
    instance.connections.add(connection)
    instance.current = connection
  }

  /** The storage now holds the start of `instanceId`'s record, made by hello `since`. */
  persisted(instanceId: string, since: number): void {
    const instance = this.#instances.get(instanceId)
    if (instance?.since === since) instance.persisted = true
  }

  /** Every instance's record, for a snapshot of the whole store. */
  image(): StoredInstance[] {
    const image: StoredInstance[] = []
    for (const [instanceId, { since, forgotten, answers, persisted }] of this.#instances) {
      if (persisted) image.push({ instanceId, since, forgotten, answers: [...answers.values()] })
    }
    return image
  }

  /** Takes back the records a storage held, as instances without a connection whose grace starts now. */
  restore(instances: readonly StoredInstance[]): void {
    const { dedupWindow } = this.#limits
    for (const stored of instances) {
      const answers = new Map(stored.answers.map((answer) => [answer.id, answer]))
      let forgotten = stored.forgotten
      // A smaller dedupWindow than the last run's drops the oldest, as answering would have.
      for (const id of answers.keys()) {
        if (answers.size <= dedupWindow) break
        answers.delete(id)
        forgotten = Math.max(forgotten, id)
      }
      const instance = unconnected<C>({ since: stored.since, answers, forgotten, idleSince: this.#now(), persisted: true })
      this.#instances.set(stored.instanceId, instance)
      ;(answers.size === 0 ? this.#idleEmpty : this.#idleKept).set(stored.instanceId, instance)
      this.#idleEntries += entries(instance)
    }
    this.#trim()
  }

  /** `connection` of `instanceId` closed: answers stop going there; one left with none starts its grace. */
  detach(instanceId: string, connection: C): void {
    const instance = this.#instances.get(instanceId)
    if (instance === undefined || !instance.connections.delete(connection)) return
    // A newer connection of the same instance keeps its place.
    if (instance.current === connection) instance.current = undefined
    if (instance.connections.size > 0) return
    instance.idleSince = this.#now()
    ;(instance.answers.size === 0 ? this.#idleEmpty : this.#idleKept).set(instanceId, instance)
    this.#idleEntries += entries(instance)
    this.#trim()
  }

  /** What is known of call `id` of `instanceId`, which just arrived. */
  status(instanceId: string, id: number): CallStatus {
    const instance = this.#instances.get(instanceId)
    const answer = instance?.answers.get(id)
    if (answer !== undefined) return { kind: 'answered', responseJson: actionResultJson(id, answer.version, answer.valueJson) }
    if (this.#unanswered.has(instanceId, id)) return { kind: 'pending' }
    if (instance === undefined || id < instance.since) return { kind: 'unknown', reason: 'expired' }
    if (id <= instance.forgotten) return { kind: 'unknown', reason: 'window' }
    return { kind: 'new' }
  }

  /** The id of the hello that made `instanceId`'s record, when it is held. */
  since = (instanceId: string): number | undefined => this.#instances.get(instanceId)?.since

  /** Calls taken and not answered yet. */
  get unanswered(): number {
    return this.#unanswered.size
  }

  /** Whether another server told it of a call it answered: only then may a waiting call's status change. */
  get learns(): boolean {
    return this.#learns
  }

  /**
   * Notes that call `id` of `instanceId` was taken: it will be answered through {@link answer}. A
   * call of an instance without a connection here came through another server (see relayed calls):
   * it is the instance idle the shortest from now, the last to be forgotten.
   */
  take(instanceId: string, id: number): void {
    this.#unanswered.add(instanceId, id)
    const instance = this.#instances.get(instanceId)
    const idle = this.#idleKept.has(instanceId) ? this.#idleKept : this.#idleEmpty
    if (instance === undefined || !idle.delete(instanceId)) return
    instance.idleSince = this.#now()
    idle.set(instanceId, instance)
  }

  /**
   * Call `id` of `instanceId` was answered: keeps `changed`, its answer, for a resend when the call
   * changed the state, and returns the connection the answer goes to, if the instance has one.
   */
  answer(instanceId: string, id: number, changed?: StoredAnswer): C | undefined {
    this.#unanswered.delete(instanceId, id)
    const instance = this.#instances.get(instanceId)
    if (instance === undefined) return undefined
    if (changed !== undefined) this.#keep(instanceId, instance, changed)
    return instance.current
  }

  /**
   * Another server sharing the storage made the record of `instanceId` with hello `since`: kept
   * here too (as stored, idle), unless held already, so its calls resent to this server are known.
   */
  learnInstance(instanceId: string, since: number): void {
    if (!this.#instances.has(instanceId)) this.restore([{ instanceId, since, forgotten: -1, answers: [] }])
  }

  /** Another server's change answered a call of `instanceId`: kept for a resend here (see {@link status}). */
  learn(instanceId: string, answer: StoredAnswer): void {
    this.#learns = true
    const instance = this.#instances.get(instanceId)
    if (instance !== undefined && !instance.answers.has(answer.id)) this.#keep(instanceId, instance, answer)
  }

  #keep(instanceId: string, instance: Instance<C>, answer: StoredAnswer): void {
    const idle = this.#idleKept.has(instanceId) || this.#idleEmpty.delete(instanceId)
    if (idle) this.#idleKept.set(instanceId, instance)
    instance.answers.set(answer.id, answer)
    if (idle) this.#idleEntries += 1
    if (instance.answers.size > this.#limits.dedupWindow) {
      const oldest = instance.answers.keys().next().value!
      instance.answers.delete(oldest)
      instance.forgotten = Math.max(instance.forgotten, oldest)
      if (idle) this.#idleEntries -= 1
    }
    if (idle) this.#trim()
  }

  /**
   * Forgets idle instances until the bounds hold: those that hold no answer first, then the
   * others, the one idle longest first among each.
   */
  #trim(): void {
    const { maxRememberedClients, answerGrace, dedupWindow } = this.#limits
    const now = this.#now()
    for (const idle of [this.#idleEmpty, this.#idleKept]) {
      for (const [instanceId, instance] of idle) {
        if (this.#idleEmpty.size + this.#idleKept.size <= maxRememberedClients || now - instance.idleSince < answerGrace) break
        this.#forget(idle, instanceId, instance)
      }
    }
    const maxEntries = maxRememberedClients * (dedupWindow + 1)
    for (const idle of [this.#idleEmpty, this.#idleKept]) {
      for (const [instanceId, instance] of idle) {
        if (this.#idleEntries <= maxEntries) break
        this.#forget(idle, instanceId, instance)
      }
    }
  }

  #forget(idle: Map<string, Instance<C>>, instanceId: string, instance: Instance<C>): void {
    idle.delete(instanceId)
    this.#instances.delete(instanceId)
    this.#idleEntries -= entries(instance)
  }
}

/** A record with no connection yet: made by a first hello (which attaches one at once) or restored. */
function unconnected<C>(fields: Omit<Instance<C>, 'connections' | 'current'>): Instance<C> {
  return { ...fields, connections: new Set(), current: undefined }
}

const entries = (instance: Instance<unknown>): number => 1 + instance.answers.size
