// Runs actions one at a time in arrival order, each behind the asynchronous input checks of those before it.
import { toIpcStateError, type IpcStateError } from '@ipc-state/protocol'

/** What an {@link ActionQueue} does with its jobs. */
export interface ActionQueueHandlers<J> {
  /** Runs a job whose input is ready. Called for one job at a time, in arrival order. */
  run(job: J, input: unknown): void
  /** Answers a job whose asynchronous input check failed, in the turn the job would have run. */
  reject(job: J, error: IpcStateError): void
}

type Entry<J> =
  | { job: J; ready: true; input: unknown }
  | { job: J; ready: false; settled: Promise<{ value: unknown } | { error: IpcStateError }> }

/**
 * Runs actions one at a time, in the order they arrived: one total order for every client. A job
 * whose input is still being checked asynchronously holds back every job behind it, so a fast
 * check never overtakes a slow one. A job that is ready when the queue is idle runs at once,
 * before `push` returns.
 */
export class ActionQueue<J> {
  readonly #handlers: ActionQueueHandlers<J>
  readonly #entries: Entry<J>[] = []
  #running = false
  #idle: (() => void)[] = []

  constructor(handlers: ActionQueueHandlers<J>) {
    this.#handlers = handlers
  }

  /** Jobs waiting their turn. */
  get size(): number {
    return this.#entries.length
  }

  /** Whether a job is running or waits for its input check. */
  get running(): boolean {
    return this.#running
  }

  /**
   * Queues `job`. `input` is the checked input, or a promise of it from an asynchronous check; a
   * rejected promise reaches {@link ActionQueueHandlers.reject} as an `IpcStateError`.
   */
  push(job: J, input: unknown): void {
    if (input instanceof Promise) {
      // Settled into a value now, so a rejection is never left unhandled while it waits its turn.
      const settled = input.then(
        (value: unknown) => ({ value }),
        (error: unknown) => ({ error: toIpcStateError(error) }),
      )
      this.#entries.push({ job, ready: false, settled })
    } else {
      this.#entries.push({ job, ready: true, input })
    }
    if (!this.#running) void this.#drain()
  }

  /** Resolves once every queued job has run. */
  whenIdle(): Promise<void> {
    if (!this.#running) return Promise.resolve()
    return new Promise((resolve) => this.#idle.push(resolve))
  }

  async #drain(): Promise<void> {
    this.#running = true
    while (this.#entries.length > 0) {
      const entry = this.#entries.shift()!
      if (entry.ready) {
        this.#handlers.run(entry.job, entry.input)
        continue
      }
      const settled = await entry.settled
      if (Object.hasOwn(settled, 'error')) this.#handlers.reject(entry.job, (settled as { error: IpcStateError }).error)
      else this.#handlers.run(entry.job, (settled as { value: unknown }).value)
    }
    this.#running = false
    const idle = this.#idle
    this.#idle = []
    for (const resolve of idle) resolve()
  }
}
