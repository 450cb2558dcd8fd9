// The path of an action call from a greeted session to its answer: resend check, limits, input check, queue, commit and fan-out.
import { type ActionFunction, ErrorCode, IpcStateError, toIpcStateError, type Logger } from '@ipc-state/protocol'
import { encodeActionResult, type ActionCallRequest } from '@ipc-state/protocol/wire'
import { ActionQueue } from './action-queue.js'
import type { CallRecord } from './call-record.js'
import type { CommitPipeline } from './commit-pipeline.js'
import type { FanOut } from '../connections/fan-out.js'
import { encodeErrorResponse, type Session } from '../connections/session.js'
import type { PresenceMark, StoredAnswer } from '../storage/storage.js'
import type { StoreRuntime } from '../state/store-runtime.js'

/** What {@link ActionCalls} needs from the rest of the server. */
export interface ActionCallsOptions<S extends object> {
  runtime: StoreRuntime<S>
  record: CallRecord<Session>
  fanOut: FanOut<Session>
  /** Where each outcome waits for the change it depends on to be durable. */
  pipeline: CommitPipeline
  settings: {
    /** The socket path, for messages. */
    path: string
    maxInFlight: number
    /** For messages: the bounds of the record. */
    dedupWindow: number
    answerGrace: number
    logger: Logger
  }
  /** Whether the server is closing: new calls are refused then. */
  isClosing(): boolean
}

/** A call a client sent. */
interface ClientJob {
  /** The connection that sent the call; its in-flight count includes it until it is answered. */
  session: Session
  clientId: string
  instanceId: string
  request: ActionCallRequest
}

/** A call the server process made itself (`server.actions`): answered through its promise. */
interface ServerJob {
  session: undefined
  action: string
  resolve(value: unknown): void
  reject(error: IpcStateError): void
}

/** A presence hook that is due once it reaches its turn: what it runs and what it marks. */
export interface DueHook {
  /** `onClientJoin` or `onClientLeave`: what replicas see as the change's action. */
  name: string
  /** The store's hook, `undefined` when the store has none: the change then only carries the mark. */
  hook: ActionFunction<never> | undefined
  /** The hook's second argument. */
  event: unknown
  mark: PresenceMark
}

/** A join or a leave, queued to run its hook in the total order (see `presence/presence.ts`). */
export interface HookJob {
  session: undefined
  action: undefined
  /** Decides at its turn, against every change before it: `undefined` when it is no longer due. */
  due(): DueHook | undefined
  /** The change that records `mark` was applied to the working state. */
  applied(mark: PresenceMark): void
  /** The change that records `mark` is durable and sent to replicas. */
  committed(mark: PresenceMark): void
  /** Its change could not be stored. */
  failed(error: IpcStateError): void
}

type Job = ClientJob | ServerJob | HookJob

/**
 * Who a call of the server process itself is, to its action (`context`) and to replicas
 * (`ChangeInfo.clientId`): no client can say hello with an empty id. Its changes are stored with
 * the instance `''`, as changes no client made are.
 */
export const SERVER_CALLER = { clientId: '', instanceId: '' } as const

/**
 * The path of an action call, from a greeted session to its answer: answered from the record when
 * it is a resend (with `OUTCOME_UNKNOWN` when the record can no longer tell whether it was
 * applied), refused past `maxInFlight` or while closing, its input checked, then queued, applied,
 * its change stored, and once it is durable fanned out to every replica, and its answer recorded
 * and sent to the caller's instance on its current connection.
 */
export class ActionCalls<S extends object> {
  readonly #options: ActionCallsOptions<S>
  readonly #queue: ActionQueue<Job>
  #calls = 0
  #changes = 0

  constructor(options: ActionCallsOptions<S>) {
    this.#options = options
    this.#queue = new ActionQueue<Job>({
      run: (job, input) => this.#run(job, input),
      reject: (job, error) => {
        if (job.session === undefined) {
          if (job.action === undefined) job.failed(error)
          else job.reject(error)
          return
        }
        job.session.inFlight -= 1
        this.#answer(job.instanceId, job.request.id, encodeErrorResponse(job.request.id, error))
      },
    })
  }

  /** Whether an action runs or waits in the queue. */
  get running(): boolean {
    return this.#queue.running
  }

  /** Calls taken to run since the server started: not a resend answered from the record, nor one refused. */
  get calls(): number {
    return this.#calls
  }

  /** Changes applied and published since the server started: one per version. */
  get changes(): number {
    return this.#changes
  }

  /** Resolves once every queued call has been answered. */
  whenIdle(): Promise<void> {
    return this.#queue.whenIdle()
  }

  /** Takes an action call from `session`, which said hello. */
  receive(session: Session, request: ActionCallRequest): void {
    const { runtime, record, settings } = this.#options
    const clientId = session.clientId!
    const instanceId = session.instanceId!
    const status = record.status(instanceId, request.id)
    switch (status.kind) {
      case 'answered':
        session.send(status.frame)
        return
      case 'pending':
        // Still queued from before a reconnect (its input check was asynchronous): its answer
        // will come to this connection, the instance's current one.
        return
      case 'unknown':
        session.fail(request.id, this.#outcomeUnknown(request.id, status.reason))
        return
      case 'new':
        break
    }
    if (this.#options.isClosing()) {
      session.fail(request.id, new IpcStateError(ErrorCode.SERVER_CLOSING, `The server at ${settings.path} is closing`))
      return
    }
    if (session.inFlight >= settings.maxInFlight) {
      const error = new IpcStateError(
        ErrorCode.TOO_MANY_REQUESTS,
        `More than ${settings.maxInFlight} requests in flight on one connection (option maxInFlight)`,
      )
      session.fail(request.id, error)
      return
    }
    let input: unknown
    try {
      input = runtime.checkInput(request.action, request.input)
    } catch (error) {
      this.#answer(instanceId, request.id, encodeErrorResponse(request.id, toIpcStateError(error)))
      return
    }
    session.inFlight += 1
    this.#calls += 1
    record.take(instanceId, request.id)
    this.#queue.push({ session, clientId, instanceId, request }, input)
  }

  /**
   * Runs action `action` for the server process itself, in the same total order as clients' calls,
   * and resolves with its result once its change is durable and sent to every replica.
   * @throws IpcStateError `SERVER_CLOSING`, `UNKNOWN_ACTION`, `BAD_ARGUMENTS`, `ACTION_FAILED`,
   *   `PERSIST_FAILED` (through the promise)
   */
  call(action: string, input: unknown): Promise<unknown> {
    const { runtime, settings } = this.#options
    if (this.#options.isClosing()) {
      return Promise.reject(new IpcStateError(ErrorCode.SERVER_CLOSING, `The server at ${settings.path} is closing`))
    }
    let checked: unknown
    try {
      checked = runtime.checkInput(action, input)
    } catch (error) {
      return Promise.reject(toIpcStateError(error))
    }
    this.#calls += 1
    return new Promise((resolve, reject) => this.#queue.push({ session: undefined, action, resolve, reject }, checked))
  }

  /** Queues a presence hook behind every call taken so far (see {@link HookJob}). */
  hook(job: Omit<HookJob, 'session' | 'action'>): void {
    this.#queue.push({ ...job, session: undefined, action: undefined }, undefined)
  }

  #run(job: Job, input: unknown): void {
    if (job.session === undefined) {
      if (job.action === undefined) this.#runHook(job)
      else this.#runForServer(job, input)
      return
    }
    const { runtime, fanOut, pipeline, settings } = this.#options
    const { session, clientId, instanceId, request } = job
    const { id } = request
    session.inFlight -= 1
    // With a storage other servers share, another server may have applied this very call (sent
    // there first, resent here) while it waited: its answer then came with that server's change.
    const status = this.#options.record.status(instanceId, id)
    if (status.kind === 'answered') {
      this.#answer(instanceId, id, status.frame)
      return
    }
    const failed = (error: IpcStateError) => this.#answer(instanceId, id, encodeErrorResponse(id, error))
    // Another server wrote first: run again on top of its changes, in this call's turn.
    const rerun = () => {
      session.inFlight += 1
      this.#queue.push(job, input)
    }
    let applied: ReturnType<typeof runtime.apply>
    try {
      applied = runtime.apply(request.action, input, { clientId, instanceId })
    } catch (error) {
      const failure = toIpcStateError(error, ErrorCode.ACTION_FAILED)
      settings.logger.debug?.('action failed', { action: request.action, code: failure.code, reason: failure.message })
      const frame = encodeErrorResponse(id, failure)
      pipeline.add(undefined, () => this.#answer(instanceId, id, frame), failed, rerun)
      return
    }
    const frame = encodeActionResult(id, applied.version, applied.valueJson)
    if (applied.patches.length === 0) {
      pipeline.add(undefined, () => this.#answer(instanceId, id, frame), failed, rerun)
      return
    }
    const { version, patchesJson, valueJson } = applied
    pipeline.add(
      { kind: 'change', version, patchesJson, instanceId, id, valueJson, action: request.action, clientId },
      () => {
        runtime.publish(applied)
        this.#changes += 1
        // Replicas hear of the change before the caller hears its answer.
        fanOut.publish(runtime.epoch, version, patchesJson, request.action, clientId)
        this.#answer(instanceId, id, frame, { id, version, valueJson })
      },
      failed,
      rerun,
    )
  }

  #runForServer(job: ServerJob, input: unknown): void {
    const { runtime, fanOut, pipeline } = this.#options
    const { action } = job
    const rerun = () => this.#queue.push(job, input)
    let applied: ReturnType<typeof runtime.apply>
    try {
      applied = runtime.apply(action, input, SERVER_CALLER)
    } catch (error) {
      const failure = toIpcStateError(error, ErrorCode.ACTION_FAILED)
      pipeline.add(undefined, () => job.reject(failure), job.reject, rerun)
      return
    }
    const value = applied.valueJson === undefined ? undefined : JSON.parse(applied.valueJson)
    if (applied.patches.length === 0) {
      pipeline.add(undefined, () => job.resolve(value), job.reject, rerun)
      return
    }
    const { version, patchesJson, valueJson } = applied
    const { clientId, instanceId } = SERVER_CALLER
    pipeline.add(
      { kind: 'change', version, patchesJson, instanceId, id: 0, valueJson, action, clientId },
      () => {
        runtime.publish(applied)
        this.#changes += 1
        fanOut.publish(runtime.epoch, version, patchesJson, action, clientId)
        job.resolve(value)
      },
      job.reject,
      rerun,
    )
  }

  #runHook(job: HookJob): void {
    const { runtime, fanOut, pipeline, settings } = this.#options
    const due = job.due()
    if (due === undefined) return
    const { name, event, mark } = due
    let applied: ReturnType<typeof runtime.apply>
    try {
      applied = runtime.applyHook(name, due.hook as ActionFunction<S> | undefined, event)
    } catch (error) {
      // The join or leave happened all the same: it is recorded without the hook's change, so a
      // hook that throws can neither keep a gone process present nor run twice.
      settings.logger.error?.(`${name} failed: its change was dropped, the ${'left' in mark ? 'leave' : 'join'} is recorded`, {
        error: toIpcStateError(error).message,
      })
      applied = runtime.applyHook(name, undefined, event)
    }
    job.applied(mark)
    const { version, patchesJson } = applied
    const { clientId, instanceId } = SERVER_CALLER
    const presenceJson = JSON.stringify(mark)
    pipeline.add(
      { kind: 'change', version, patchesJson, instanceId, id: 0, valueJson: undefined, action: name, clientId, presenceJson },
      () => {
        runtime.publish(applied)
        this.#changes += 1
        fanOut.publish(runtime.epoch, version, patchesJson, name, clientId)
        job.committed(mark)
      },
      (error) => job.failed(error),
      () => this.#queue.push(job, undefined),
    )
  }

  /**
   * Sends an action's answer to the caller's current connection, and records it for a resend of
   * the same call when the call changed the state (one that did not may simply run again).
   */
  #answer(instanceId: string, id: number, frame: string, changed?: StoredAnswer): void {
    this.#options.record.answer(instanceId, id, changed)?.send(frame)
  }

  #outcomeUnknown(id: number, reason: 'expired' | 'window'): IpcStateError {
    const { path, dedupWindow, answerGrace } = this.#options.settings
    const why =
      reason === 'window'
        ? `more than ${dedupWindow} later calls of this client were answered since (option dedupWindow)`
        : `this client had no connection for a while and its record was forgotten to make room (option answerGrace: ${answerGrace} ms)`
    return new IpcStateError(
      ErrorCode.OUTCOME_UNKNOWN,
      `Call ${id} was sent before and may or may not have been applied: the server at ${path} no longer holds its answer, ` +
        `because ${why}. It was not applied again. Do not retry it blindly: read the state to find out.`,
      { data: { id, reason } },
    )
  }
}
