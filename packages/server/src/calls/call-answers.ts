// Where a client's call is answered: its connection on this server, the record of answered calls, and the server that relayed it.
import { ErrorCode, IpcStateError, type Logger } from '@ipc-state/protocol'
import { type ActionCallRequest, actionResultJson } from '@ipc-state/protocol/wire'
import type { CallRecord, CallStatus } from './call-record.js'
import { isReply, type RelayedCalls } from './relayed-calls.js'
import { errorResponseJson } from '../connections/error-frames.js'
import type { FanOut } from '../connections/fan-out.js'
import type { Session } from '../connections/session.js'
import type { ServerMetrics } from '../metrics/server-metrics.js'
import type { RelayedCall, RelayedReply } from '../storage/call-relay.js'
import type { StoredAnswer } from '../storage/storage.js'

/** A call a client sent: to this server, or to the server `from` that relayed it here. */
export interface ClientJob {
  /** The connection that sent the call, when it came here; its in-flight count includes it until it is answered. */
  session: Session | undefined
  /** The id of the server that relayed the call; absent for a call sent here. */
  from?: string
  clientId: string
  instanceId: string
  request: ActionCallRequest
  /** When the call arrived, on the metrics' clock (0 without metrics). */
  at: number
}

/** What {@link CallAnswers} needs. */
export interface CallAnswersOptions {
  record: CallRecord<Session>
  fanOut: FanOut<Session>
  relayed?: RelayedCalls | undefined
  metrics?: ServerMetrics | undefined
  settings: { path: string; dedupWindow: number; answerGrace: number; logger: Logger }
}

/**
 * Answers clients' calls: each answer goes to the caller's current connection at the end of the
 * turn, is kept in the record when the call changed the state, and, for a call another server
 * relayed here, reaches that server (with the change, or in a reply when it changed nothing).
 */
export class CallAnswers {
  readonly #options: CallAnswersOptions

  constructor(options: CallAnswersOptions) {
    this.#options = options
  }

  /**
   * Answers a client's call, sent here or relayed: to the caller's connection when it is on this
   * server, and for another server's call that changed nothing, in a reply to that server (a
   * change carries the answer to every server).
   */
  settle(job: ClientJob, responseJson: string, changed?: StoredAnswer): void {
    const { instanceId, from } = job
    const { id } = job.request
    const { relayed } = this.#options
    if (from !== undefined) relayed?.settle(instanceId, id)
    this.answer(instanceId, id, responseJson, changed)
    if (from !== undefined && changed === undefined) relayed?.reply(from, { instanceId, id, responseJson })
  }

  /**
   * Settles a relayed call the record knows (see `CallStatus`): one answered before is answered
   * again where its answer is given here (elsewhere its change carried it), one it can no longer
   * tell fails `OUTCOME_UNKNOWN`. Whether it did.
   */
  fromRecord(job: ClientJob, status: CallStatus): boolean {
    if (status.kind === 'answered') {
      if (this.answeredHere(job)) this.settle(job, status.responseJson)
      return true
    }
    if (status.kind !== 'unknown') return false
    this.settle(job, errorResponseJson(job.request.id, this.outcomeUnknown(job.request.id, status.reason)))
    return true
  }

  /** Whether `job` came to this server, or was relayed by it before it was the writer: its answer is given here. */
  answeredHere(job: ClientJob): boolean {
    return job.from === undefined || job.from === this.#options.relayed?.serverId
  }

  /**
   * Sends an action's answer (the data of its `response`, as JSON) to the caller's current
   * connection at the end of this turn, and records it for a resend of the same call when the call
   * changed the state (one that did not may simply run again).
   */
  answer(instanceId: string, id: number, responseJson: string, changed?: StoredAnswer): void {
    const session = this.#options.record.answer(instanceId, id, changed)
    if (session !== undefined) this.#options.fanOut.answer(session, responseJson, changed?.version)
  }

  /**
   * Another server's change carried `answer` to call `answer.id` of `instanceId`: answered here
   * when this server relayed it, else kept for a resend (see `CallRecord.learn`).
   */
  learned(instanceId: string, answer: StoredAnswer): void {
    const relayed = this.#options.relayed?.settle(instanceId, answer.id)
    if (relayed === undefined) {
      this.#options.record.learn(instanceId, answer)
      return
    }
    this.answer(instanceId, answer.id, actionResultJson(answer.id, answer.version, answer.valueJson), answer)
    this.#options.metrics?.called(relayed.action, 'ok', relayed.at)
  }

  /** The writer's replies to calls this server relayed that changed nothing. */
  replied(replies: readonly RelayedReply[], source?: string): void {
    for (const reply of replies) {
      if (!isReply(reply)) {
        const { instanceId, id } = reply
        this.#options.settings.logger.warn?.('a reply from the writer is not an answer: left out', { source, instanceId, id })
        continue
      }
      const relayed = this.#options.relayed?.settle(reply.instanceId, reply.id)
      if (relayed === undefined) continue
      this.answer(reply.instanceId, reply.id, reply.responseJson)
      this.#options.metrics?.called(relayed.action, 'ok', relayed.at)
    }
  }

  /** Calls this server relayed that never reached the writer: answered with `error`. */
  refused(calls: readonly RelayedCall[], error: IpcStateError): void {
    const { relayed } = this.#options
    for (const call of calls) {
      const id = relayed?.idOf(call)
      const settled = id === undefined ? undefined : relayed?.settle(call.instanceId, id)
      if (id === undefined || settled === undefined) continue
      this.answer(call.instanceId, id, errorResponseJson(id, error))
      this.#options.metrics?.called(settled.action, error.code, settled.at)
    }
  }

  /** The error for a resend the record can no longer tell was applied (see `CallStatus`). */
  outcomeUnknown(id: number, reason: 'expired' | 'window'): IpcStateError {
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
