import { encodeStateChanged } from '@ipc-state/protocol'

/**
 * The replicas a change goes to: every session that asked for one in its handshake and is still
 * served. Each change is encoded once and the same bytes go to every replica.
 */
export class FanOut<R extends { send(frame: string): void }> {
  readonly #replicas = new Set<R>()

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
   * Sends one change, as patches already encoded (`patchesJson`), to every replica. The action
   * queue calls it once per version, in version order, so every replica sees the same sequence.
   */
  publish(epoch: string, version: number, patchesJson: string): void {
    const frame = encodeStateChanged(epoch, version, patchesJson)
    // A replica that cannot keep up is refused by its own send, which removes it from this set;
    // deleting while iterating a Set is safe.
    for (const replica of this.#replicas) replica.send(frame)
  }
}
