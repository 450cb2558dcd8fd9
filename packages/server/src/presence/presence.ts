// Which client instances are present, and the joins and leaves that run the store's presence hooks, each once.
import type { ActionFunction, ClientJoin, ClientLeave, IpcStateError, LeaveReason, Logger } from '@ipc-state/protocol'
import type { DueHook, HookJob } from '../calls/action-calls.js'
import type { PresenceMark, PresentInstance } from '../storage/storage.js'

/** What {@link Presence} needs from the rest of the server. */
export interface PresenceOptions {
  /** The store's hooks; presence is tracked only when it has one of them. */
  store: { readonly onClientJoin?: unknown; readonly onClientLeave?: unknown }
  /** How long a lost instance may take to come back before it is left, in milliseconds. */
  leaveGrace: number
  /** Queues a join or a leave in the total order of calls (`ActionCalls.hook`). */
  hook(job: Omit<HookJob, 'session' | 'action'>): void
  logger: Logger
}

/** The present instances, by id. */
type Members = Map<string, PresentInstance>

/**
 * The client instances present in the store, and when each joins and leaves.
 *
 * An instance joins at its first hello and leaves once: at once when it says goodbye (`bye`), or
 * when it has had no connection for `leaveGrace` (reason `lost`); an instance that was present
 * when the store was last served, restored from the storage, leaves when it has not come back
 * within `leaveGrace` of this server's start (`server-restart`). Each join and leave is a change
 * of its own, queued behind the calls taken before it, which runs the store's hook and carries a
 * {@link PresenceMark}: the storage keeps both at once, so a restart finds every leave made, or not
 * made, together with its hook's change.
 *
 * Whether a join or a leave is still due is decided at its turn, against every change before it:
 * a leave of an instance that came back meanwhile, or a join of one already present, does nothing.
 * Two views: `working`, which the changes applied so far made, and `durable`, what the storage
 * holds; a write that failed takes the working view back to the durable one, as it does the state.
 */
export class Presence {
  readonly #options: PresenceOptions
  /** Whether the store has a hook: without one, nothing is tracked and nothing is stored. */
  readonly enabled: boolean
  #working: Members = new Map()
  readonly #durable: Members = new Map()
  /** Open connections of each greeted instance. */
  readonly #connections = new Map<string, number>()
  /** Instances that said goodbye: their last connection ending is no loss to wait on. */
  readonly #gone = new Set<string>()
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>()
  #closed = false

  constructor(options: PresenceOptions) {
    this.#options = options
    this.enabled = options.store.onClientJoin !== undefined || options.store.onClientLeave !== undefined
  }

  /** The instances present, as the storage holds them: for a snapshot. */
  image(): PresentInstance[] {
    return [...this.#durable.values()]
  }

  /** Takes the instances present that a storage held. Made before any connection is served. */
  restore(present: readonly PresentInstance[]): void {
    for (const instance of present) {
      this.#durable.set(instance.instanceId, instance)
      this.#working.set(instance.instanceId, instance)
    }
  }

  /**
   * The server listens: every restored instance that does not come back within `leaveGrace` is
   * left (`server-restart`).
   */
  start(): void {
    if (!this.enabled) return
    for (const instanceId of this.#durable.keys()) {
      if (!this.#connections.has(instanceId)) this.#waitFor(instanceId, 'server-restart')
    }
  }

  /** A connection of `instanceId` was greeted: it joins unless it is present. */
  connected(instanceId: string, clientId: string): void {
    if (!this.enabled || this.#closed) return
    this.#connections.set(instanceId, (this.#connections.get(instanceId) ?? 0) + 1)
    this.#gone.delete(instanceId)
    this.#stopWaiting(instanceId)
    this.#queue({ instanceId, clientId }, undefined)
  }

  /** A greeted connection of `instanceId` closed: with no other one left, the grace starts. */
  disconnected(instanceId: string): void {
    if (!this.enabled || this.#closed) return
    const left = (this.#connections.get(instanceId) ?? 1) - 1
    if (left > 0) {
      this.#connections.set(instanceId, left)
      return
    }
    this.#connections.delete(instanceId)
    if (!this.#gone.has(instanceId)) this.#waitFor(instanceId, 'lost')
  }

  /** `instanceId` said goodbye: it leaves now. */
  bye(instanceId: string): void {
    if (!this.enabled || this.#closed) return
    this.#gone.add(instanceId)
    this.#stopWaiting(instanceId)
    this.#leave(instanceId, 'closed')
  }

  /** A change of another server sharing the storage carried `mark`: both views take it. */
  external(mark: PresenceMark): void {
    apply(this.#durable, mark)
    apply(this.#working, mark)
  }

  /** Another server's snapshot replaced the store: who is present is what it says. */
  replace(present: readonly PresentInstance[]): void {
    this.#durable.clear()
    this.#working.clear()
    this.restore(present)
  }

  /** A write failed: the working view goes back to what the storage holds. */
  rollback(): void {
    this.#working = new Map(this.#durable)
  }

  /** The server closes: nothing joins or leaves from now on, and what is present stays so in the storage. */
  close(): void {
    this.#closed = true
    for (const timer of this.#timers.values()) clearTimeout(timer)
    this.#timers.clear()
  }

  #waitFor(instanceId: string, reason: LeaveReason): void {
    this.#stopWaiting(instanceId)
    const { leaveGrace } = this.#options
    if (leaveGrace === Number.POSITIVE_INFINITY) return
    const timer = setTimeout(() => {
      this.#timers.delete(instanceId)
      this.#leave(instanceId, reason)
    }, leaveGrace)
    // A grace running out must not keep a process alive that has nothing else to do.
    timer.unref()
    this.#timers.set(instanceId, timer)
  }

  #stopWaiting(instanceId: string): void {
    const timer = this.#timers.get(instanceId)
    if (timer === undefined) return
    clearTimeout(timer)
    this.#timers.delete(instanceId)
  }

  #leave(instanceId: string, reason: LeaveReason): void {
    this.#queue(undefined, { instanceId, reason })
  }

  /** Queues a join (`joining`) or a leave (`leaving`), decided at its turn. */
  #queue(joining: PresentInstance | undefined, leaving: { instanceId: string; reason: LeaveReason } | undefined): void {
    const { store, hook, logger } = this.#options
    hook({
      due: (): DueHook | undefined => {
        if (this.#closed) return undefined
        if (joining !== undefined) {
          if (this.#working.has(joining.instanceId)) return undefined
          const event: ClientJoin = { clientId: joining.clientId, instanceId: joining.instanceId }
          return { name: 'onClientJoin', hook: store.onClientJoin as ActionFunction<never>, event, mark: { joined: joining } }
        }
        const { instanceId, reason } = leaving!
        const present = this.#working.get(instanceId)
        // Gone already, or back meanwhile: a goodbye leaves whatever its other connections do.
        if (present === undefined || (reason !== 'closed' && this.#connections.has(instanceId))) return undefined
        const event: ClientLeave = { clientId: present.clientId, instanceId, reason }
        return { name: 'onClientLeave', hook: store.onClientLeave as ActionFunction<never>, event, mark: { left: instanceId } }
      },
      applied: (mark) => apply(this.#working, mark),
      committed: (mark) => apply(this.#durable, mark),
      failed: (error: IpcStateError) => {
        logger.error?.('a join or a leave could not be stored: it is tried again after leaveGrace', { error: error.message })
        // A join is tried again by the instance's next hello; a leave by its grace, run again.
        if (leaving !== undefined && !this.#closed) this.#waitFor(leaving.instanceId, leaving.reason)
      },
    })
  }
}

function apply(members: Members, mark: PresenceMark): void {
  if ('joined' in mark) members.set(mark.joined.instanceId, mark.joined)
  else members.delete(mark.left)
}
