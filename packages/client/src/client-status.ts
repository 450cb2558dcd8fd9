// A client's status (connecting, connected, reconnecting, closed) and the listeners told of each change.
import type { Logger } from '@ipc-state/protocol'

/** Where a client is in its life. */
export type ClientStatus = 'connecting' | 'connected' | 'reconnecting' | 'closed'

/** A client's status, and the listeners told of each change. */
export class ClientStatusTracker {
  #status: ClientStatus = 'connecting'
  readonly #listeners = new Set<(status: ClientStatus) => void>()
  readonly #logger: Logger
  readonly #path: string

  constructor(logger: Logger, path: string) {
    this.#logger = logger
    this.#path = path
  }

  get current(): ClientStatus {
    return this.#status
  }

  /** Moves to `next` and tells every listener; a listener that throws is logged. */
  set(next: ClientStatus): void {
    if (this.#status === next) return
    this.#status = next
    this.#logger.debug?.('status', { status: next, path: this.#path })
    for (const listener of this.#listeners) {
      // A listener changed the status again (say, closed the client): the rest have heard the newer one.
      if (this.#status !== next) return
      try {
        listener(next)
      } catch (error) {
        this.#logger.error?.('a status listener threw', { error: String(error) })
      }
    }
  }

  /** Runs `listener` whenever the status changes. Returns a function that unregisters it. */
  listen(listener: (status: ClientStatus) => void): () => void {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }
}
