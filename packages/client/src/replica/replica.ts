// The client's copy of the state, kept up by the server's changes and read and subscribed to by the application.
import { applyPatches, deepFreeze, type DeepReadonly, type Logger, type Patch } from '@ipc-state/protocol'

/** Why subscribers are being told about a new state. */
export type ChangeReason =
  /** An action was applied on the server. */
  | 'change'
  /** The replica was replaced by a fresh snapshot (after a reconnect or a missed change). */
  | 'resync'
  /** The server restarted: the state is the new server's, whatever it is. */
  | 'reset'

/** What a listener learns with each change. */
export interface ChangeInfo {
  reason: ChangeReason
  /** The version the state is at now. */
  version: number
  /**
   * With `reason: 'change'`: the first version this change covers. A server applies every call
   * that arrived together before it sends their changes, and a replica applies those at once, as
   * React batches updates: listeners see the state after the last of them, never one in between,
   * and `from` is below `version` then. Equal to `version` for a single change.
   */
  from?: number
  epoch: string
  /**
   * With `reason: 'change'`: the name of the action that made the change (of a batch: that made
   * every change of it). Absent for a resync or a reset (a snapshot may hold many changes), for a
   * batch of several actions, and from a server that does not send it.
   */
  action?: string
  /**
   * With `reason: 'change'`: the `clientId` of the client that called the action (this client's
   * own `clientId` for its own calls; of a batch: that called every change of it). Absent for a
   * resync or a reset, for a batch of several callers, and from a server that does not send it.
   */
  clientId?: string
}

/** Who made a change, as the server reports it. */
export interface ChangeAttribution {
  action?: string
  clientId?: string
}

/** A listener for the whole state. */
export type StateListener<S> = (state: DeepReadonly<S>, info: ChangeInfo) => void

/** Options for a selector subscription. */
export interface SubscribeOptions<T> {
  /**
   * Decides whether the selected value changed; the listener runs only when it did.
   * @default Object.is (unchanged parts of the state keep their identity between versions)
   */
  equals?: (a: T, b: T) => boolean
  /**
   * Calls the listener once at once with the current selection.
   * @default false
   */
  immediate?: boolean
}

type Subscriber<S> = (state: DeepReadonly<S>, info: ChangeInfo) => void

/**
 * The local copy of the server's state: frozen, replaced or patched only in version order. A
 * change that does not follow the current version is refused, so the caller can resync instead of
 * holding a silently wrong replica.
 */
export class Replica<S> {
  #state: DeepReadonly<S> | undefined
  #version = -1
  #epoch = ''
  readonly #subscribers = new Set<Subscriber<S>>()
  readonly #versionWaiters: { version: number; epoch: string; resolve: () => void }[] = []
  readonly #logger: Logger

  constructor(logger: Logger) {
    this.#logger = logger
  }

  get state(): DeepReadonly<S> | undefined {
    return this.#state
  }

  get version(): number {
    return this.#version
  }

  get epoch(): string {
    return this.#epoch
  }

  /** Replaces the whole replica with a snapshot. */
  reset(epoch: string, version: number, state: unknown): void {
    const reason: ChangeReason = this.#state === undefined || epoch === this.#epoch ? 'resync' : 'reset'
    const changed = reason === 'reset' || version !== this.#version
    this.#state = deepFreeze(state) as DeepReadonly<S>
    this.#epoch = epoch
    this.#version = version
    if (changed) this.#notify(reason)
    this.#release()
  }

  /**
   * Applies one change, or a batch of them: versions `from` to `version`, whose patches are applied
   * whole and notified once. Returns `'applied'`, `'stale'` (already seen, or from an older server
   * run) or `'gap'` (a change is missing, or the patches did not fit): the caller must then resync.
   */
  apply(
    epoch: string,
    version: number,
    patches: Patch[],
    by: ChangeAttribution = {},
    from: number = version,
  ): 'applied' | 'stale' | 'gap' {
    if (this.#state === undefined || epoch !== this.#epoch || version <= this.#version) return 'stale'
    // A batch that starts past the next version, or partly before it, cannot be applied in part.
    if (from !== this.#version + 1) return 'gap'
    try {
      this.#state = applyPatches(this.#state, patches)
    } catch (error) {
      this.#logger.warn?.('a change did not fit the replica; resyncing', { version, error: String(error) })
      return 'gap'
    }
    this.#version = version
    this.#notify('change', by, from)
    this.#release()
    return 'applied'
  }

  /** Resolves once the replica shows `version` of server run `epoch`, or a newer run. */
  reached(epoch: string, version: number): Promise<void> {
    if (this.#reached(epoch, version)) return Promise.resolve()
    return new Promise((resolve) => this.#versionWaiters.push({ epoch, version, resolve }))
  }

  /** Lets every waiter go, for a client that is closing. */
  releaseAll(): void {
    for (const waiter of this.#versionWaiters.splice(0)) waiter.resolve()
  }

  subscribe(subscriber: Subscriber<S>): () => void {
    this.#subscribers.add(subscriber)
    return () => {
      this.#subscribers.delete(subscriber)
    }
  }

  #reached(epoch: string, version: number): boolean {
    return this.#epoch !== epoch || this.#version >= version
  }

  #release(): void {
    for (let i = this.#versionWaiters.length - 1; i >= 0; i--) {
      const waiter = this.#versionWaiters[i]!
      if (this.#reached(waiter.epoch, waiter.version)) {
        this.#versionWaiters.splice(i, 1)
        waiter.resolve()
      }
    }
  }

  /** Whether the replica shows `version` of server run `epoch` (or a newer run) now. */
  shows(epoch: string, version: number): boolean {
    return this.#reached(epoch, version)
  }

  #notify(reason: ChangeReason, by: ChangeAttribution = {}, from?: number): void {
    const info: ChangeInfo = { reason, version: this.#version, epoch: this.#epoch }
    if (from !== undefined) info.from = from
    if (by.action !== undefined) info.action = by.action
    if (by.clientId !== undefined) info.clientId = by.clientId
    const state = this.#state!
    for (const subscriber of this.#subscribers) {
      try {
        subscriber(state, info)
      } catch (error) {
        // A listener's failure is its own; the replica and the other listeners go on.
        this.#logger.error?.('a state listener threw', { error: String(error) })
      }
    }
  }
}
