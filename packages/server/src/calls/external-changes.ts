// Takes what other servers sharing the storage committed into this server's state, replicas and record of answered calls.
import { type IpcStateError, toIpcStateError, type Logger, type Patch } from '@ipc-state/protocol'
import type { CallRecord } from './call-record.js'
import type { CommitPipeline } from './commit-pipeline.js'
import type { FanOut } from '../connections/fan-out.js'
import type { Session } from '../connections/session.js'
import type { StateFrames } from '../connections/state-frames.js'
import { type ReplayOptions, replayLog } from '../storage/replay-log.js'
import type { ExternalUpdate, PresenceMark, PresentInstance, StoredAnswer } from '../storage/storage.js'
import { readPresenceMark } from '../storage/stored-record.js'
import type { StoreRuntime } from '../state/store-runtime.js'

/** What {@link ExternalChanges} updates. */
export interface ExternalChangesOptions<S extends object> {
  runtime: StoreRuntime<S>
  record: CallRecord<Session>
  fanOut: FanOut<Session>
  pipeline: CommitPipeline
  /** Dropped when the state is replaced by a reload. */
  snapshots: StateFrames
  /** Takes the joins and leaves other servers stored (see `presence/presence.ts`). */
  presence: { external(mark: PresenceMark): void; replace(present: readonly PresentInstance[]): void }
  /** Takes the answer a change carried to a client's call (see `CallAnswers.learned`). */
  learned(instanceId: string, answer: StoredAnswer): void
  /** How a whole store handed in is replayed (see `replayLog`). */
  replay: ReplayOptions
  logger: Logger
}

/**
 * Takes what other servers sharing the storage committed (see `StorageContext.receive`) into this
 * server, in the shared log's order: each change into the state (as a replica takes it) and on to
 * this server's replicas, each answer and client instance into the record of answered calls.
 *
 * A change applies only on top of the stored state, so while a write of this server is under way
 * they wait: after that write, either it won (and the changes that came back are its own, skipped
 * by version) or it lost, and the pipeline catches up ({@link applyPending}) before it runs the
 * refused calls again.
 */
export class ExternalChanges<S extends object> {
  readonly #options: ExternalChangesOptions<S>
  #pending: ExternalUpdate[] = []
  #waiting = false

  constructor(options: ExternalChangesOptions<S>) {
    this.#options = options
  }

  /**
   * Queues `updates`, and applies them at once when no write is under way.
   * @throws IpcStateError when one applied at once does not apply: the storage that handed it over
   * learns so, and must stop writing (the updates after it are dropped)
   */
  receive(updates: readonly ExternalUpdate[]): void {
    const { record, runtime } = this.#options
    for (const update of updates) {
      // A client instance's record depends on no state: known at once, whatever this server writes.
      if (update.kind === 'instance') record.learnInstance(update.instanceId, update.since)
      // This server's own changes come back through the log too: those it serves already are dropped.
      else if (update.kind === 'reload' || update.version > runtime.served.version) this.#pending.push(update)
    }
    // Own changes that came back before their write was answered, served by now.
    const first = this.#pending.findIndex((update) => update.kind !== 'change' || update.version > runtime.served.version)
    this.#pending.splice(0, first === -1 ? this.#pending.length : first)
    const failure = this.#applyWhenIdle()
    if (failure !== undefined) throw failure
  }

  #applyWhenIdle(): IpcStateError | undefined {
    if (this.#pending.length === 0) return undefined
    const { pipeline } = this.#options
    if (!pipeline.busy) return this.#applyAll()
    if (this.#waiting) return undefined
    this.#waiting = true
    void pipeline.whenIdle().then(() => {
      this.#waiting = false
      this.#applyWhenIdle()
    })
    return undefined
  }

  /**
   * Applies every update queued. Only while the working state is the stored one: the pipeline is
   * idle, or has just rolled back after a conflict. An update that does not apply is logged, and it
   * and the ones after it are dropped: the server stays at the version before it (a shared storage
   * sees that it did not move, and refuses to write on).
   */
  applyPending(): void {
    this.#applyAll()
  }

  #applyAll(): IpcStateError | undefined {
    const updates = this.#pending
    this.#pending = []
    for (const update of updates) {
      try {
        this.#apply(update)
      } catch (error) {
        // A change that does not apply means this server's state is not the shared one any more:
        // nothing here can repair that, and serving on would spread the difference.
        const failure = toIpcStateError(error)
        this.#options.logger.error?.('a change from the shared storage could not be applied', { error: failure.message })
        return failure
      }
    }
    return undefined
  }

  #apply(update: ExternalUpdate): void {
    const { runtime, record, fanOut } = this.#options
    switch (update.kind) {
      case 'instance':
        record.learnInstance(update.instanceId, update.since)
        return
      case 'change': {
        // This server's own changes come back through the log too.
        if (update.version <= runtime.served.version) return
        const patches = JSON.parse(update.patchesJson) as Patch[]
        runtime.follow(update.version, patches, update.patchesJson)
        fanOut.publish(runtime.epoch, update.version, update.patchesJson, update.action, update.clientId)
        if (update.presenceJson !== undefined) {
          const mark = readPresenceMark(update.presenceJson)
          if (mark !== undefined) this.#options.presence.external(mark)
        }
        if (update.instanceId !== '') {
          this.#options.learned(update.instanceId, { id: update.id, version: update.version, valueJson: update.valueJson })
        }
        return
      }
      case 'reload': {
        const store = replayLog(update.store, this.#options.replay)
        if (store.version <= runtime.served.version) return
        runtime.restore(store.state, store.version, runtime.epoch)
        this.#options.snapshots.drop()
        this.#options.presence.replace(store.present)
        for (const instance of store.instances) record.learnInstance(instance.instanceId, instance.since)
        // A replica short of the versions skipped sees a gap and resyncs from a snapshot; one right
        // before it takes the whole state.
        const patchesJson = JSON.stringify([{ op: 'replace', path: [], value: runtime.served.state }])
        fanOut.publish(runtime.epoch, store.version, patchesJson)
        // After the change that shows them: a call this server relayed may be answered among them.
        for (const instance of store.instances) {
          for (const answer of instance.answers) this.#options.learned(instance.instanceId, answer)
        }
        this.#options.logger.warn?.('changes were gone from the shared storage: reloaded its snapshot', { version: store.version })
        return
      }
    }
  }
}
