import {
  ErrorCode,
  IpcStateError,
  encodeActionResult,
  toIpcStateError,
  type ActionCallRequest,
  type Logger,
} from '@ipc-state/protocol'
import { ActionQueue } from './action-queue.js'
import type { CallRecord } from './call-record.js'
import type { FanOut } from './fan-out.js'
import { encodeErrorResponse, type Session } from './session.js'
import type { StoreRuntime } from './store-runtime.js'

/** What {@link ActionCalls} needs from the rest of the server. */
export interface ActionCallsOptions<S extends object> {
  runtime: StoreRuntime<S>
  record: CallRecord<Session>
  fanOut: FanOut<Session>
  settings: {
    /** The socket path, for messages. */
    path: string
    maxInFlight: number
    logger: Logger
  }
  /** Whether the server is closing: new calls are refused then. */
  isClosing(): boolean
}

interface Job {
  /** The connection that sent the call; its in-flight count includes it until it is answered. */
  session: Session
  clientId: string
  instanceId: string
  request: ActionCallRequest
}

/**
 * The path of an action call, from a greeted session to its answer: answered from the record when
 * it is a resend, refused past `maxInFlight` or while closing, its input checked, then queued,
 * applied, its change fanned out to every replica, and its answer recorded and sent to the
 * caller's instance on its current connection.
 */
export class ActionCalls<S extends object> {
  readonly #options: ActionCallsOptions<S>
  readonly #queue: ActionQueue<Job>

  constructor(options: ActionCallsOptions<S>) {
    this.#options = options
    this.#queue = new ActionQueue<Job>({
      run: (job, input) => this.#run(job, input),
      reject: (job, error) => {
        job.session.inFlight -= 1
        this.#answer(job.instanceId, job.request.id, encodeErrorResponse(job.request.id, error))
      },
    })
  }

  /** Whether an action runs or waits in the queue. */
  get running(): boolean {
    return this.#queue.running
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
    const previous = record.answerTo(instanceId, request.id)
    if (previous !== undefined) {
      session.send(previous)
      return
    }
    // Still queued from before a reconnect (its input check was asynchronous): its answer will
    // come to this connection, the instance's current one.
    if (record.isUnanswered(instanceId, request.id)) return
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
    record.take(instanceId, request.id)
    this.#queue.push({ session, clientId, instanceId, request }, input)
  }

  #run(job: Job, input: unknown): void {
    const { runtime, fanOut, settings } = this.#options
    const { session, clientId, instanceId, request } = job
    session.inFlight -= 1
    let frame: string
    try {
      const applied = runtime.apply(request.action, input, clientId)
      // Replicas hear of the change before the caller hears its answer.
      if (applied.patches.length > 0) fanOut.publish(runtime.epoch, applied.version, applied.patchesJson)
      frame = encodeActionResult(request.id, applied.version, applied.valueJson)
    } catch (error) {
      const failure = toIpcStateError(error, ErrorCode.ACTION_FAILED)
      settings.logger.debug?.('action failed', { action: request.action, code: failure.code, reason: failure.message })
      frame = encodeErrorResponse(request.id, failure)
    }
    this.#answer(instanceId, request.id, frame)
  }

  /** Records an action's answer for a resend of the same call, and sends it to the caller's current connection. */
  #answer(instanceId: string, id: number, frame: string): void {
    this.#options.record.answer(instanceId, id, frame)?.send(frame)
  }
}
