// The calls taken and not answered yet, by client instance: what tells a resend of one apart from a new call.
/**
 * The calls taken and not answered yet, by client instance: a resend of one must not be queued
 * again. Kept by instance, with numbers for ids, so a call costs no key made of strings.
 */
export class PendingCalls {
  readonly #byInstance = new Map<string, Set<number>>()
  #size = 0

  /** Calls taken and not answered yet. */
  get size(): number {
    return this.#size
  }

  has(instanceId: string, id: number): boolean {
    return this.#byInstance.get(instanceId)?.has(id) === true
  }

  add(instanceId: string, id: number): void {
    let ids = this.#byInstance.get(instanceId)
    if (ids === undefined) {
      ids = new Set()
      this.#byInstance.set(instanceId, ids)
    }
    if (ids.has(id)) return
    ids.add(id)
    this.#size += 1
  }

  delete(instanceId: string, id: number): void {
    const ids = this.#byInstance.get(instanceId)
    if (ids === undefined || !ids.delete(id)) return
    this.#size -= 1
    // An instance with nothing in flight holds no entry.
    if (ids.size === 0) this.#byInstance.delete(instanceId)
  }
}
