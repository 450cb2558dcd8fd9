// Orders every answer and change the server gives behind the storage writes it depends on, one write per tick.
import { ErrorCode, IpcStateError, toIpcStateError, type Logger } from '@ipc-state/protocol'
import type { Storage, StorageEntry, WriteConflict } from '../storage/storage.js'

/** One step of the pipeline: what to persist, if anything, and what to do once it is durable. */
interface Step {
  entry: StorageEntry | undefined
  /** Runs once the entry, and every entry before it, is durable. */
  deliver(): void
  /** Runs instead of `deliver` when a write it waited for failed. */
  fail(error: IpcStateError): void
  /**
   * Runs instead of `deliver` when a shared storage refused the write it waited for because another
   * server wrote first: makes the step again on top of the changes caught up with. Without one, the
   * step is added again as it was.
   */
  rerun: (() => void) | undefined
}

/** What a {@link CommitPipeline} does when a write fails. */
export interface CommitPipelineOptions {
  logger: Logger
  /**
   * A write failed: every step not delivered yet is about to fail. Called first, once per failed
   * write, so the state in memory goes back to what the storage holds before anything else runs.
   */
  rolledBack(error: IpcStateError): void
  /**
   * A shared storage refused a write because another server wrote first (see `WriteConflict`), and
   * handed over what it missed: the state in memory goes back to the last stored version and takes
   * those changes, before the refused steps run again. Called first, once per refused write.
   */
  caughtUp?(): void
}

/**
 * Orders every outcome the server gives behind the writes it depends on. Each step runs once its
 * entry and every entry before it is durable, in the order the steps were added; steps added in
 * one tick share one write (and one fsync), and while a write is under way the next batch gathers
 * behind it. Without a storage a step runs at once.
 *
 * A failed write fails its batch and everything gathered behind it: those were computed on top of
 * changes the storage does not hold. The server then goes back to the last durable state and
 * serves on from there; the next write tells whether the storage works again.
 */
export class CommitPipeline {
  readonly #storage: Pick<Storage, 'write'> | undefined
  readonly #options: CommitPipelineOptions
  #gathering: Step[] = []
  #writing: Step[] | undefined
  #scheduled = false
  #idle: (() => void)[] = []
  /** Whether the last write failed, so the next success is worth a log line. */
  #failing = false

  constructor(storage: Pick<Storage, 'write'> | undefined, options: CommitPipelineOptions) {
    this.#storage = storage
    this.#options = options
  }

  /** Whether a step waits for a write. */
  get busy(): boolean {
    return this.#writing !== undefined || this.#gathering.length > 0
  }

  /**
   * Adds a step: `entry` (if any) is written, then `deliver` runs, or `fail` if the write failed,
   * or `rerun` (when given) if a shared storage refused it because another server wrote first.
   */
  add(entry: StorageEntry | undefined, deliver: () => void, fail: (error: IpcStateError) => void, rerun?: () => void): void {
    if (this.#storage === undefined || (entry === undefined && !this.busy)) {
      deliver()
      return
    }
    this.#gathering.push({ entry, deliver, fail, rerun })
    if (this.#writing === undefined && !this.#scheduled) {
      this.#scheduled = true
      queueMicrotask(() => this.#flush())
    }
  }

  /** Resolves once every step added so far has been delivered or failed. */
  whenIdle(): Promise<void> {
    if (!this.busy) return Promise.resolve()
    return new Promise((resolve) => this.#idle.push(resolve))
  }

  #flush(): void {
    this.#scheduled = false
    if (this.#writing !== undefined) return
    const batch = this.#gathering
    if (batch.length === 0) {
      this.#settleIdle()
      return
    }
    this.#gathering = []
    this.#writing = batch
    const entries: StorageEntry[] = []
    for (const step of batch) if (step.entry !== undefined) entries.push(step.entry)
    const written = entries.length === 0 ? Promise.resolve() : this.#storage!.write(entries)
    written.then(
      (result) => (isConflict(result) ? this.#conflicted(batch) : this.#written(batch)),
      (error: unknown) => this.#failed(toIpcStateError(error, ErrorCode.PERSIST_FAILED)),
    )
  }

  #written(batch: Step[]): void {
    this.#writing = undefined
    if (this.#failing) {
      this.#failing = false
      this.#options.logger.info?.('the storage writes again; changes are taken again')
    }
    for (const step of batch) step.deliver()
    this.#flush()
  }

  #conflicted(batch: Step[]): void {
    const steps = [...batch, ...this.#gathering]
    this.#writing = undefined
    this.#gathering = []
    this.#options.caughtUp?.()
    // In their order: a step made again is added (or queued to run) behind the ones before it.
    for (const step of steps) {
      if (step.rerun === undefined) this.add(step.entry, step.deliver, step.fail)
      else step.rerun()
    }
    // Nothing may have been added again (the calls were answered from the record meanwhile).
    if (!this.#scheduled) this.#flush()
  }

  #failed(cause: IpcStateError): void {
    const steps = [...(this.#writing ?? []), ...this.#gathering]
    this.#writing = undefined
    this.#gathering = []
    this.#failing = true
    const error = PASSED_ON.has(cause.code)
      ? cause
      : new IpcStateError(ErrorCode.PERSIST_FAILED, `The change could not be stored: ${cause.message}`, { cause })
    this.#options.rolledBack(error)
    for (const step of steps) step.fail(error)
    this.#settleIdle()
  }

  #settleIdle(): void {
    if (this.busy) return
    const idle = this.#idle
    this.#idle = []
    for (const resolve of idle) resolve()
  }
}

/** What a storage's failure says as it is: anything else is wrapped as `PERSIST_FAILED`. */
const PASSED_ON = new Set<string>([
  ErrorCode.PERSIST_FAILED,
  ErrorCode.BACKEND_UNAVAILABLE,
  // A shared store that holds what this server cannot take, or that a newer store version migrated.
  ErrorCode.STORE_DAMAGED,
  ErrorCode.STORE_TOO_NEW,
])

const isConflict = (result: unknown): result is WriteConflict =>
  typeof result === 'object' && result !== null && (result as WriteConflict).conflict === true
