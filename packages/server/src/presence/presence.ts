// Which client instances are present, and the joins and leaves that run the store's presence hooks, each once.
import type { ActionFunction, ClientJoin, ClientLeave, IpcStateError, LeaveReason, Logger } from '@ipc-state/protocol'
import type { DueHook, HookJob } from '../calls/server-jobs.js'
import type { PresenceMark, PresentInstance, ServerLeases } from '../storage/storage.js'

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

/** A leave to run: of which instance, why, and (for a loss) while it is still the one of which server. */
interface Leaving {
  instanceId: string
  reason: LeaveReason
  /**
   * The server the instance must still be connected to for the leave to be due: a loss is this
   * server's to act on only while the instance did not move to another server. Absent: always due.
   */
  server?: string
}

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
  /** Each greeted instance connected here: its open connections, and its client id. */
  readonly #connected = new Map<string, { connections: number; clientId: string }>()
  /** Instances that said goodbye: their last connection ending is no loss to wait on. */
  readonly #gone = new Set<string>()
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>()
  #closed = false
  /** The servers' leases, when several servers share the storage and it keeps them. */
  #leases: ServerLeases | undefined
  #leaseCheck: ReturnType<typeof setInterval> | undefined
  /** Servers found dead, whose instances are being waited for. */
  readonly #dead = new Set<string>()

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
  start(leases?: ServerLeases): void {
    if (!this.enabled) return
    this.#leases = leases
    for (const [instanceId, { server }] of this.#durable) {
      // With leases, a restored instance of another server is that server's while its lease holds.
      if (server === undefined || leases === undefined) this.#waitFor({ instanceId, reason: 'server-restart' })
    }
    if (leases === undefined) return
    // Every quarter lease: a server's lease runs out ¾ of a lease after its death at most (see `ServerLeases`).
    this.#leaseCheck = setInterval(() => void this.#checkLeases(), Math.max(1, Math.floor(leases.leaseMs / 4)))
    this.#leaseCheck.unref()
    void this.#checkLeases()
  }

  /** A connection of `instanceId` was greeted: it joins unless it is present. */
  connected(instanceId: string, clientId: string): void {
    if (!this.enabled || this.#closed) return
    const connections = (this.#connected.get(instanceId)?.connections ?? 0) + 1
    this.#connected.set(instanceId, { connections, clientId })
    this.#gone.delete(instanceId)
    this.#stopWaiting(instanceId)
    this.#queue({ instanceId, clientId }, undefined)
  }

  /** A greeted connection of `instanceId` closed: with no other one left, the grace starts. */
  disconnected(instanceId: string): void {
    if (!this.enabled || this.#closed) return
    const connected = this.#connected.get(instanceId)
    const left = (connected?.connections ?? 1) - 1
    if (left > 0) {
      connected!.connections = left
      return
    }
    this.#connected.delete(instanceId)
    if (!this.#gone.has(instanceId)) this.#waitFor({ instanceId, reason: 'lost', server: this.#leases?.serverId })
  }

  /** `instanceId` said goodbye: it leaves now. */
  bye(instanceId: string): void {
    if (!this.enabled || this.#closed) return
    this.#gone.add(instanceId)
    this.#stopWaiting(instanceId)
    this.#queue(undefined, { instanceId, reason: 'closed' })
  }

  /** A change of another server sharing the storage carried `mark`: both views take it. */
  external(mark: PresenceMark): void {
    apply(this.#durable, mark)
    apply(this.#working, mark)
    // Left by another server (this one was cut off from the storage for longer than its lease)
    // while still connected here: it joins again.
    if (!('left' in mark) || this.#closed) return
    const clientId = this.#connected.get(mark.left)?.clientId
    if (clientId !== undefined) this.#queue({ instanceId: mark.left, clientId }, undefined)
  }

  /** Another server's snapshot replaced the store: who is present is what it says. */
  replace(present: readonly PresentInstance[]): void {
    this.#durable.clear()
    this.#working.clear()
    this.restore(present)
    // Left meanwhile by another server, yet connected here: they join again, as after `external`.
    if (this.#closed) return
    for (const [instanceId, { clientId }] of this.#connected) {
      if (!this.#working.has(instanceId)) this.#queue({ instanceId, clientId }, undefined)
    }
  }

  /** A write failed: the working view goes back to what the storage holds. */
  rollback(): void {
    this.#working = new Map(this.#durable)
  }

  /** The server closes: nothing joins or leaves from now on, and what is present stays so in the storage. */
  close(): void {
    this.#closed = true
    clearInterval(this.#leaseCheck)
    for (const timer of this.#timers.values()) clearTimeout(timer)
    this.#timers.clear()
  }

  /** Starts the grace of `leaving`: at its end, the leave is queued (and decided at its turn). */
  #waitFor(leaving: Leaving): void {
    const { instanceId } = leaving
    this.#stopWaiting(instanceId)
    const { leaveGrace } = this.#options
    if (leaveGrace === Number.POSITIVE_INFINITY) return
    const timer = setTimeout(() => {
      this.#timers.delete(instanceId)
      this.#queue(undefined, leaving)
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

  /** Finds the servers whose lease ran out, and waits for their instances to come back elsewhere. */
  async #checkLeases(): Promise<void> {
    const leases = this.#leases!
    const others = new Set<string>()
    for (const { server } of this.#working.values()) if (server !== undefined && server !== leases.serverId) others.add(server)
    if (others.size === 0 || this.#closed) return
    let alive: ReadonlySet<string>
    try {
      alive = await leases.alive([...others])
    } catch {
      // The storage cannot tell now: nobody is taken for dead on a guess.
      return
    }
    for (const server of others) {
      if (alive.has(server)) {
        // Its lease lapsed only for a while (Redis was out of its reach): it may die later.
        this.#dead.delete(server)
        continue
      }
      if (this.#dead.has(server)) continue
      this.#dead.add(server)
      this.#options.logger.warn?.('a server sharing the storage is gone: its clients are left unless they come back in time', {
        server,
      })
      for (const [instanceId, present] of this.#working) {
        if (present.server === server && !this.#connected.has(instanceId))
          this.#waitFor({ instanceId, reason: 'server-lost', server })
      }
    }
  }

  /** Queues a join (`joining`) or a leave (`leaving`), decided at its turn. */
  #queue(joining: Omit<PresentInstance, 'server'> | undefined, leaving: Leaving | undefined): void {
    const { store, hook, logger } = this.#options
    hook({
      due: (): DueHook | undefined => {
        if (this.#closed) return undefined
        if (joining !== undefined) {
          const server = this.#leases?.serverId
          const present = this.#working.get(joining.instanceId)
          const joined: PresentInstance = server === undefined ? { ...joining } : { ...joining, server }
          if (present === undefined) {
            const event: ClientJoin = { clientId: joining.clientId, instanceId: joining.instanceId }
            return { name: 'onClientJoin', hook: store.onClientJoin as ActionFunction<never>, event, mark: { joined } }
          }
          // Present through another server, which may die: it is this server's now (no hook runs).
          if (present.server === server) return undefined
          return { name: 'onClientJoin', hook: undefined, event: undefined, mark: { joined } }
        }
        const { instanceId, reason, server } = leaving!
        const present = this.#working.get(instanceId)
        // Gone already, back meanwhile, or moved to another server: a goodbye leaves whatever else holds.
        if (present === undefined) return undefined
        if (reason !== 'closed' && (this.#connected.has(instanceId) || (server !== undefined && present.server !== server))) {
          return undefined
        }
        const event: ClientLeave = { clientId: present.clientId, instanceId, reason }
        return { name: 'onClientLeave', hook: store.onClientLeave as ActionFunction<never>, event, mark: { left: instanceId } }
      },
      applied: (mark) => apply(this.#working, mark),
      committed: (mark) => apply(this.#durable, mark),
      failed: (error: IpcStateError) => {
        logger.error?.('a join or a leave could not be stored: it is tried again after leaveGrace', { error: error.message })
        // A join is tried again by the instance's next hello; a leave by its grace, run again.
        if (leaving !== undefined && !this.#closed) this.#waitFor(leaving)
      },
    })
  }
}

function apply(members: Members, mark: PresenceMark): void {
  if ('joined' in mark) members.set(mark.joined.instanceId, mark.joined)
  else members.delete(mark.left)
}
