// Every request's timeout behind one timer, set for the earliest deadline.
/** Something that expires at `deadline` (by `performance.now()`), unless removed before. */
export interface Expiring {
  readonly deadline: number
  expire(): void
}

/**
 * The timeouts of every request behind one timer, set for the earliest deadline: a timer per call
 * (made, then cleared, for nearly every call that is answered in time) was a good part of what a
 * busy client spent in garbage collection.
 */
export class Deadlines {
  readonly #entries = new Set<Expiring>()
  #timer: ReturnType<typeof setTimeout> | undefined
  /** When the timer fires, `Infinity` when none is set. */
  #timerAt = Number.POSITIVE_INFINITY

  /** Entries waiting. */
  get size(): number {
    return this.#entries.size
  }

  /** Calls `entry.expire()` at its deadline, unless {@link delete}d first. An infinite deadline never expires. */
  add(entry: Expiring): void {
    if (entry.deadline === Number.POSITIVE_INFINITY) return
    this.#entries.add(entry)
    if (entry.deadline < this.#timerAt) this.#schedule(entry.deadline)
    else if (this.#entries.size === 1) holds(this.#timer, true)
  }

  delete(entry: Expiring): void {
    if (!this.#entries.delete(entry) || this.#entries.size > 0) return
    // Left armed, and no longer keeping the process alive: the next call, as a rule due later,
    // finds it set already. A timer made and cleared for every call one at a time was a good part
    // of such a client's work. Should it fire with nothing due, it stops.
    holds(this.#timer, false)
  }

  #schedule(at: number): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    this.#timerAt = at
    if (at === Number.POSITIVE_INFINITY) return
    this.#timer = setTimeout(() => this.#sweep(), Math.max(0, at - performance.now()))
    if (this.#entries.size === 0) holds(this.#timer, false)
  }

  /** Expires every entry whose deadline has come, then waits for the earliest left. */
  #sweep(): void {
    this.#timer = undefined
    this.#timerAt = Number.POSITIVE_INFINITY
    const now = performance.now()
    const due: Expiring[] = []
    let next = Number.POSITIVE_INFINITY
    for (const entry of this.#entries) {
      if (entry.deadline <= now) due.push(entry)
      else if (entry.deadline < next) next = entry.deadline
    }
    for (const entry of due) this.#entries.delete(entry)
    this.#schedule(next)
    // Last: an expiry may add or remove entries.
    for (const entry of due) entry.expire()
  }
}

/** Makes a Node timer keep the process alive or not; a page's timers have no such switch. */
function holds(timer: ReturnType<typeof setTimeout> | undefined, keep: boolean): void {
  const switchable = timer as { ref?(): void; unref?(): void } | undefined
  if (keep) switchable?.ref?.()
  else switchable?.unref?.()
}
