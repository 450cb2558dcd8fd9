// The last changes the server published, kept within a count and a byte bound, for `changes/list`.
import type { ChangesListResult, Patch, RecentChange } from '@ipc-state/protocol'

/** The bounds of a {@link ChangeHistory}. */
export interface ChangeHistoryLimits {
  /** Changes kept at most; 0 keeps none. */
  historySize: number
  /** Bytes of patches (as JSON text), action names and client ids kept at most, over all changes kept. */
  historyBytes: number
}

/** What one kept change costs besides its text: its numbers and references. */
const ENTRY_BYTES = 64

/**
 * The last changes published, oldest first, in a ring of `historySize` slots. Each change keeps
 * the patches' JSON the server encoded anyway: recording one allocates nothing, and the oldest
 * changes go first to keep the total within `historyBytes`. A change whose patches alone would
 * pass that bound is kept without them.
 */
export class ChangeHistory {
  readonly #limits: ChangeHistoryLimits
  // One array per field: a change takes a slot in each, and nothing is allocated per change.
  readonly #versions: number[]
  readonly #times: number[]
  readonly #patches: (string | undefined)[]
  readonly #actions: (string | undefined)[]
  readonly #clients: (string | undefined)[]
  readonly #costs: number[]
  /** The slot of the oldest change kept. */
  #first = 0
  #size = 0
  #bytes = 0

  readonly #now: () => number

  /** @param now the clock each change's `at` is read on, in milliseconds since 1970 */
  constructor(limits: ChangeHistoryLimits, now: () => number = Date.now) {
    this.#limits = limits
    this.#now = now
    const slots = limits.historySize
    this.#versions = new Array<number>(slots).fill(0)
    this.#times = new Array<number>(slots).fill(0)
    this.#patches = new Array<string | undefined>(slots).fill(undefined)
    this.#actions = new Array<string | undefined>(slots).fill(undefined)
    this.#clients = new Array<string | undefined>(slots).fill(undefined)
    this.#costs = new Array<number>(slots).fill(0)
  }

  /** Changes kept now. */
  get size(): number {
    return this.#size
  }

  /** Bytes the changes kept count against `historyBytes`. */
  get bytes(): number {
    return this.#bytes
  }

  /** Keeps the change that made `version`, dropping the oldest ones as the bounds require. */
  add(version: number, patchesJson: string, action: string | undefined, clientId: string | undefined): void {
    const { historySize, historyBytes } = this.#limits
    if (historySize === 0) return
    const names = (action?.length ?? 0) + (clientId?.length ?? 0)
    // JSON text's length counts UTF-16 units: two bytes each is what a string may take in memory.
    const full = ENTRY_BYTES + 2 * (names + patchesJson.length)
    const kept = full <= historyBytes ? patchesJson : undefined
    const cost = kept === undefined ? ENTRY_BYTES + 2 * names : full
    while (this.#size > 0 && (this.#size === historySize || this.#bytes + cost > historyBytes)) this.#dropOldest()
    const slot = (this.#first + this.#size) % historySize
    this.#versions[slot] = version
    this.#times[slot] = this.#now()
    this.#patches[slot] = kept
    this.#actions[slot] = action
    this.#clients[slot] = clientId
    this.#costs[slot] = cost
    this.#size += 1
    this.#bytes += cost
  }

  /** The changes kept, oldest first, with the server's epoch and version, as `changes/list` answers. */
  list(epoch: string, version: number): ChangesListResult {
    const changes: RecentChange[] = []
    for (let i = 0; i < this.#size; i++) {
      const slot = (this.#first + i) % this.#limits.historySize
      const patchesJson = this.#patches[slot]
      const change: RecentChange = {
        version: this.#versions[slot]!,
        at: this.#times[slot]!,
        patches: patchesJson === undefined ? [] : (JSON.parse(patchesJson) as Patch[]),
      }
      const action = this.#actions[slot]
      const clientId = this.#clients[slot]
      if (action !== undefined) change.action = action
      if (clientId !== undefined) change.clientId = clientId
      if (patchesJson === undefined) change.patchesOmitted = true
      changes.push(change)
    }
    return { epoch, version, changes }
  }

  #dropOldest(): void {
    const slot = this.#first
    this.#bytes -= this.#costs[slot]!
    this.#patches[slot] = undefined
    this.#actions[slot] = undefined
    this.#clients[slot] = undefined
    this.#first = (slot + 1) % this.#limits.historySize
    this.#size -= 1
  }
}
