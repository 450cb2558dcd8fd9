// Orders every answer and change the server gives behind the storage writes it depends on, several writes under way at once.
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

/** What became of a batch's write. */
type Outcome = { written: true } | { conflict: true } | { error: IpcStateError }

/** The steps handed to the storage in one write, and, once it settled, what became of it. */
interface Batch {
  steps: Step[]
  /** Whether the batch handed entries to the storage (a batch of steps without one waits only for those before it). */
  writes: boolean
  outcome: Outcome | undefined
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
 * one tick share one write. A storage that says so (`Storage.writesAtOnce`) is handed the next batch
 * while earlier ones are still under way, so that its flush or round trip overlaps the next
 * batch's; each batch is still delivered only after every earlier one, whatever order the writes
 * settle in. Without a storage a step runs at once.
 *
 * A failed write fails its batch and every batch after it: those were computed on top of changes
 * the storage does not hold. The server then goes back to the last durable state and serves on
 * from there; the next write tells whether the storage works again. A write a shared storage
 * refused (another server wrote first) has its steps, and every later one, made again in order.
 */
export class CommitPipeline {
  readonly #storage: Pick<Storage, 'write' | 'writesAtOnce'> | undefined
  readonly #options: CommitPipelineOptions
  #gathering: Step[] = []
  /** Batches handed to the storage and not delivered yet, in the order they were written. */
  #inFlight: Batch[] = []
  #scheduled = false
  #idle: (() => void)[] = []
  /** Whether the last write failed, so the next success is worth a log line. */
  #failing = false

  constructor(storage: Pick<Storage, 'write' | 'writesAtOnce'> | undefined, options: CommitPipelineOptions) {
    this.#storage = storage
    this.#options = options
  }

  /** Whether a step waits for a write. */
  get busy(): boolean {
    return this.#inFlight.length > 0 || this.#gathering.length > 0
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
    if (!this.#scheduled) {
      this.#scheduled = true
      queueMicrotask(() => this.#flush())
    }
  }

  /** Resolves once every step added so far has been delivered or failed. */
  whenIdle(): Promise<void> {
    if (!this.busy) return Promise.resolve()
    return new Promise((resolve) => this.#idle.push(resolve))
  }

  /** Hands the steps gathered to the storage, when it takes one more write now. */
  #flush(): void {
    this.#scheduled = false
    const steps = this.#gathering
    if (steps.length === 0) {
      this.#settleIdle()
      return
    }
    const entries: StorageEntry[] = []
    for (const step of steps) if (step.entry !== undefined) entries.push(step.entry)
    const storage = this.#storage!
    if (entries.length > 0) {
      // Asked before every write: a storage lowers it to 1 for a write that must come alone (say,
      // one that takes a snapshot of the state every earlier write made). Once the writes under
      // way settle, this runs again.
      if (this.#inFlight.length >= Math.max(1, storage.writesAtOnce?.() ?? 1)) return
    }
    this.#gathering = []
    const batch: Batch = { steps, writes: entries.length > 0, outcome: undefined }
    this.#inFlight.push(batch)
    const written = entries.length === 0 ? Promise.resolve() : storage.write(entries)
    written.then(
      (result) => this.#settled(batch, isConflict(result) ? { conflict: true } : { written: true }),
      (error: unknown) => this.#settled(batch, { error: toIpcStateError(error, ErrorCode.PERSIST_FAILED) }),
    )
  }

  /** A write settled: delivers, in order, every batch whose write and every earlier one is done. */
  #settled(batch: Batch, outcome: Outcome): void {
    // Refused or failed with an earlier batch already: made again, or failed, with it.
    if (!this.#inFlight.includes(batch)) return
    batch.outcome = outcome
    while (this.#inFlight[0]?.outcome !== undefined) {
      const first = this.#inFlight[0]
      const done = first.outcome!
      if ('written' in done) {
        this.#inFlight.shift()
        this.#written(first)
      } else if ('conflict' in done) {
        this.#conflicted()
        return
      } else {
        this.#failed(done.error)
        return
      }
    }
    if (!this.#scheduled) this.#flush()
  }

  #written(batch: Batch): void {
    if (this.#failing && batch.writes) {
      this.#failing = false
      this.#options.logger.info?.('the storage writes again; changes are taken again')
    }
    for (const step of batch.steps) step.deliver()
  }

  /** Takes every step not delivered yet, in order, out of the pipeline. */
  #takeAll(): Step[] {
    const steps = [...this.#inFlight.flatMap((batch) => batch.steps), ...this.#gathering]
    this.#inFlight = []
    this.#gathering = []
    return steps
  }

  #conflicted(): void {
    // The writes after the refused one were made on top of it: the storage refuses them too.
    const steps = this.#takeAll()
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
    const steps = this.#takeAll()
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
