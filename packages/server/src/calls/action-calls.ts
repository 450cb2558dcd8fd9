// The path of an action call from a greeted session to its answer: resend check, limits, input check, queue, commit and fan-out.
import { ErrorCode, IpcStateError, toIpcStateError, type Logger } from '@ipc-state/protocol'
import { actionResultJson, encodeResponse, type ActionCallRequest } from '@ipc-state/protocol/wire'
import { ActionQueue } from './action-queue.js'
import type { CallRecord } from './call-record.js'
import type { CommitPipeline } from './commit-pipeline.js'
import { CallAnswers, type ClientJob } from './call-answers.js'
import type { RelayedCalls } from './relayed-calls.js'
import { type HookJob, runHookJob, runServerJob, type ServerJob, type ServerJobContext } from './server-jobs.js'
import type { FanOut } from '../connections/fan-out.js'
import type { ServerMetrics } from '../metrics/server-metrics.js'
import { errorResponseJson } from '../connections/error-frames.js'
import type { Session } from '../connections/session.js'
import type { RelayedCall } from '../storage/call-relay.js'
import type { StoreRuntime } from '../state/store-runtime.js'

/** What {@link ActionCalls} needs from the rest of the server. */
export interface ActionCallsOptions<S extends object> {
  runtime: StoreRuntime<S>
  record: CallRecord<Session>
  fanOut: FanOut<Session>
  /** Where each outcome waits for the change it depends on to be durable. */
  pipeline: CommitPipeline
  /** The socket path, and the bounds of the record, for messages. */
  settings: { path: string; maxInFlight: number; dedupWindow: number; answerGrace: number; logger: Logger }
  /** Whether the server is closing: new calls are refused then. */
  isClosing(): boolean
  /** Where each answered call is counted and timed; none when the server measures nothing. */
  metrics?: ServerMetrics | undefined
  /** The calls relayed to the writer, with a storage that runs every call on one server (see `CallRelay`). */
  relayed?: RelayedCalls | undefined
}

type Job = ClientJob | ServerJob | HookJob

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
  readonly #jobs: ServerJobContext<S>
  /** Where each client's call is answered. */
  readonly answers: CallAnswers
  #calls = 0
  #changes = 0

  constructor(options: ActionCallsOptions<S>) {
    this.#options = options
    const { runtime, fanOut, pipeline, settings, metrics } = options
    this.answers = new CallAnswers(options)
    this.#jobs = {
      runtime,
      fanOut,
      pipeline,
      logger: settings.logger,
      metrics,
      requeue: (job, input) => this.#queue.push(job, input),
      changed: () => {
        this.#changes += 1
      },
    }
    this.#queue = new ActionQueue<Job>({
      run: (job, input) => this.#run(job, input),
      reject: (job, error) => {
        if (!('request' in job)) {
          if (job.action === undefined) {
            job.failed(error)
            return
          }
          this.#options.metrics?.called(job.action, error.code, job.at)
          job.reject(error)
          return
        }
        if (job.session !== undefined) job.session.inFlight -= 1
        this.answers.settle(job, errorResponseJson(job.request.id, error))
        this.#options.metrics?.called(job.request.action, error.code, job.at)
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
    const { runtime, record, settings, metrics } = this.#options
    const at = metrics === undefined ? 0 : metrics.now()
    const clientId = session.clientId!
    const instanceId = session.instanceId!
    const status = record.status(instanceId, request.id)
    switch (status.kind) {
      case 'answered':
        session.send(encodeResponse(status.responseJson))
        metrics?.called(request.action, 'ok', at)
        return
      case 'pending':
        // Still queued from before a reconnect (its input check was asynchronous): its answer
        // will come to this connection, the instance's current one.
        return
      case 'unknown':
        this.#refuse(session, request, this.answers.outcomeUnknown(request.id, status.reason), at)
        return
      case 'new':
        break
    }
    if (this.#options.isClosing()) {
      this.#refuse(session, request, new IpcStateError(ErrorCode.SERVER_CLOSING, `The server at ${settings.path} is closing`), at)
      return
    }
    if (session.inFlight >= settings.maxInFlight) {
      const error = new IpcStateError(
        ErrorCode.TOO_MANY_REQUESTS,
        `More than ${settings.maxInFlight} requests in flight on one connection (option maxInFlight)`,
      )
      this.#refuse(session, request, error, at)
      return
    }
    const { relayed } = this.#options
    if (relayed !== undefined && !relayed.writing) {
      // The writer checks the input, as it checks every relayed call.
      this.#calls += 1
      record.take(instanceId, request.id)
      relayed.forward(session, request, record.since(instanceId) ?? 0, at)
      return
    }
    let input: unknown
    try {
      input = runtime.checkInput(request.action, request.input)
    } catch (error) {
      const failure = toIpcStateError(error)
      this.answers.answer(instanceId, request.id, errorResponseJson(request.id, failure))
      metrics?.called(request.action, failure.code, at)
      return
    }
    session.inFlight += 1
    this.#calls += 1
    record.take(instanceId, request.id)
    this.#queue.push({ session, clientId, instanceId, request, at }, input)
  }

  /** Answers a call it does not take with `error`. */
  #refuse(session: Session, request: ActionCallRequest, error: IpcStateError, at: number): void {
    session.fail(request.id, error)
    this.#options.metrics?.called(request.action, error.code, at)
  }

  /**
   * Runs action `action` for the server process itself, in the same total order as clients' calls,
   * and resolves with its result once its change is durable and sent to every replica.
   * @throws IpcStateError `SERVER_CLOSING`, `UNKNOWN_ACTION`, `BAD_ARGUMENTS`, `ACTION_FAILED`,
   *   `PERSIST_FAILED` (through the promise)
   */
  call(action: string, input: unknown): Promise<unknown> {
    const { runtime, settings, metrics } = this.#options
    const at = metrics === undefined ? 0 : metrics.now()
    if (this.#options.isClosing()) {
      metrics?.called(action, ErrorCode.SERVER_CLOSING, at)
      return Promise.reject(new IpcStateError(ErrorCode.SERVER_CLOSING, `The server at ${settings.path} is closing`))
    }
    let checked: unknown
    try {
      checked = runtime.checkInput(action, input)
    } catch (error) {
      const failure = toIpcStateError(error)
      metrics?.called(action, failure.code, at)
      return Promise.reject(failure)
    }
    this.#calls += 1
    return new Promise((resolve, reject) => this.#queue.push({ session: undefined, action, resolve, reject, at }, checked))
  }

  /**
   * Runs calls other servers relayed to this one, the writer, in order, as its own clients' calls:
   * answered from the record when one ran already (its change carried the answer to its server),
   * their input checked, queued.
   */
  runRelayed(calls: readonly RelayedCall[], source?: string): void {
    const { record, runtime, metrics } = this.#options
    for (const call of calls) {
      const request = this.#options.relayed?.decode(call, source)
      if (request === undefined) continue
      const at = metrics === undefined ? 0 : metrics.now()
      const { from, instanceId, clientId } = call
      const job: ClientJob = { session: undefined, from, clientId, instanceId, request, at }
      // Its record came with its hello's change, read first: one no longer held is OUTCOME_UNKNOWN.
      const status = record.status(instanceId, request.id)
      // A call of this server's own clients, relayed before it was the writer, is pending here
      // until it runs: once.
      if (status.kind === 'pending' && !this.#options.relayed?.takeToRun(call, request.id)) continue
      if (this.answers.fromRecord(job, status)) continue
      let input: unknown
      try {
        input = runtime.checkInput(request.action, request.input)
      } catch (error) {
        this.answers.settle(job, errorResponseJson(request.id, toIpcStateError(error)))
        continue
      }
      if (status.kind === 'new') {
        this.#calls += 1
        record.take(instanceId, request.id)
      }
      this.#queue.push(job, input)
    }
  }

  /** Queues a presence hook behind every call taken so far (see {@link HookJob}). */
  hook(job: Omit<HookJob, 'session' | 'action'>): void {
    this.#queue.push({ ...job, session: undefined, action: undefined }, undefined)
  }

  #run(job: Job, input: unknown): void {
    if (!('request' in job)) {
      if (job.action === undefined) runHookJob(this.#jobs, job)
      else runServerJob(this.#jobs, job, input)
      return
    }
    const { runtime, fanOut, pipeline, settings, metrics } = this.#options
    const { session, clientId, instanceId, request, at } = job
    const { id } = request
    if (session !== undefined) session.inFlight -= 1
    // With a storage other servers share, another server may have applied this very call (sent
    // there first, resent here) while it waited: its answer then came with that server's change,
    // which also carries it to the server that relayed it.
    const status = this.#options.record.learns ? this.#options.record.status(instanceId, id) : undefined
    if (status?.kind === 'answered') {
      if (this.answers.answeredHere(job)) this.answers.settle(job, status.responseJson)
      metrics?.called(request.action, 'ok', at)
      return
    }
    const failed = (error: IpcStateError) => {
      this.answers.settle(job, errorResponseJson(id, error))
      metrics?.called(request.action, error.code, at)
    }
    // Another server wrote first: run again on top of its changes, in this call's turn.
    const rerun = () => {
      if (session !== undefined) session.inFlight += 1
      this.#queue.push(job, input)
    }
    let applied: ReturnType<typeof runtime.apply>
    try {
      applied = runtime.apply(request.action, input, { clientId, instanceId })
    } catch (error) {
      const failure = toIpcStateError(error, ErrorCode.ACTION_FAILED)
      settings.logger.debug?.('action failed', { action: request.action, code: failure.code, reason: failure.message })
      const answer = errorResponseJson(id, failure)
      const deliver = () => {
        this.answers.settle(job, answer)
        metrics?.called(request.action, failure.code, at)
      }
      pipeline.add(undefined, deliver, failed, rerun)
      return
    }
    const answer = actionResultJson(id, applied.version, applied.valueJson)
    if (applied.patches.length === 0) {
      const deliver = () => {
        this.answers.settle(job, answer)
        metrics?.called(request.action, 'ok', at)
      }
      pipeline.add(undefined, deliver, failed, rerun)
      return
    }
    const { version, patchesJson, valueJson } = applied
    pipeline.add(
      { kind: 'change', version, patchesJson, instanceId, id, valueJson, action: request.action, clientId },
      () => {
        runtime.publish(applied)
        this.#changes += 1
        // Replicas hear of the change before the caller hears its answer (a batched caller's
        // replica finds the answer inside the change).
        fanOut.publish(runtime.epoch, version, patchesJson, request.action, clientId)
        this.answers.settle(job, answer, { id, version, valueJson })
        metrics?.called(request.action, 'ok', at)
      },
      failed,
      rerun,
    )
  }
}
