// The client's requests from the call to the answer: ids, turns, resends, timeouts and aborts.
import { ErrorCode, IpcStateError } from '@ipc-state/protocol'
import type { ClientMessage, ResponseMessage } from '@ipc-state/protocol/wire'
import { abortError } from './abort-error.js'
import { newRunError, timeoutError, unreadableAnswer } from './call-errors.js'
import { type ClientFrame, frameTooLarge, requestFrame, textFrame } from './call-frames.js'
import { timeoutOption } from '../client-options.js'
import type { ClientStatus } from '../client-status.js'
import type { LifecycleCalls, ResumedConnection } from '../connection/lifecycle-calls.js'
import { Deadlines } from './deadlines.js'
import { type CallKind, type CallOptions, type CallOwner, QueuedCall, settle } from './queued-call.js'

/** Options for a {@link CallQueue}. */
export interface CallQueueOptions {
  /** The socket path, for error messages. */
  readonly path: string
  /** The client's timeout, for a call that sets none. */
  readonly timeout: number
  /** Calls sent and not yet answered at once. */
  readonly maxInFlight: number
  /** Where the connection stands: a closed client takes no call, and a `TIMEOUT` says where it was. */
  status(): ClientStatus
  /** The last connection error, the `cause` of a `TIMEOUT` while not connected. */
  lastFailure(): Error | undefined
  /**
   * Resolves once the replica shows `version`, so a call resolves only when `client.state` shows
   * its effect; `undefined` when it shows it already (a batched change brought the answer). Absent
   * for a client without a replica.
   */
  awaitVersion?: ((version: number) => Promise<void> | undefined) | undefined
}

/**
 * The client's requests from the call to the answer: ids, the calls waiting for their turn (at most
 * `maxInFlight` are sent and unanswered), each call's timeout and abort, and the resend of every
 * unanswered call, in its original order, on a new connection.
 *
 * Ids only grow, hellos included, and a request keeps its id once written to a server run: the
 * server tells a resend by it (an id below the hello that made its record of this client was
 * numbered before that record existed; see the server's call-record.ts). So a request that was
 * never written takes a fresh id when a connection resumes, above that connection's hello.
 *
 * A server that is a new run (a new epoch: a new store, as a restarted server in memory has) holds
 * no record of any call: an action call written to the old run may have been applied there, so it
 * fails with `OUTCOME_UNKNOWN` rather than run again on the new store. Only what the old run
 * certainly did not apply (never written to any socket, or written only on a connection the server
 * then closed with its goodbye, having answered every call it took), and reads, go to the new run,
 * with fresh ids.
 *
 * A call whose frame is larger than the server reads (its `maxFrameBytes`, from the hello) fails
 * with `FRAME_TOO_LARGE` instead of being sent: the server would close the connection, and a
 * resend would only do it again.
 */
export class CallQueue implements LifecycleCalls {
  readonly #options: CallQueueOptions
  #nextId = 1
  readonly #pending = new Map<number, QueuedCall>()
  /** Ids waiting to be sent, in order. */
  #unsent: number[] = []
  #sentCount = 0
  /** Writes to the current connection; unset while there is none that has done its handshake. */
  #send: ((frame: ClientFrame) => void) | undefined
  /** Whether the current (or last) connection takes binary frames: large requests go as one. */
  #binary = false
  /** The largest frame the current (or last) connection's server reads, when it is known. */
  #maxFrameBytes: number | undefined
  /** What each call needs from this queue: made once, not per call. */
  readonly #owner: CallOwner

  constructor(options: CallQueueOptions) {
    this.#options = options
    this.#owner = {
      // Every request's timeout, from the call until it settles (also while the replica catches up).
      deadlines: new Deadlines(),
      take: (id) => {
        this.#take(id)
      },
      timeoutError: (timeout, appliedAt) =>
        timeoutError({
          path: options.path,
          timeout,
          status: options.status(),
          lastFailure: options.lastFailure(),
          appliedAt,
        }),
    }
  }

  /** The next request id. Hellos and resyncs take theirs here too: one connection, one id space. */
  nextId(): number {
    return this.#nextId++
  }

  /**
   * Sends a request once its turn comes, and settles with its answer.
   * @param message builds the request from its id
   */
  request(kind: CallKind, message: (id: number) => ClientMessage, callOptions: CallOptions = {}): Promise<unknown> {
    const { path, timeout } = this.#options
    const callSignal = callOptions.signal
    return new Promise<unknown>((resolve, reject: (error: IpcStateError) => void) => {
      // Inside the executor: a bad option rejects the call instead of throwing at the caller.
      const callTimeout = timeoutOption(callOptions.timeout, timeout)
      if (this.#options.status() === 'closed') {
        reject(new IpcStateError(ErrorCode.CLIENT_CLOSED, `The client of ${path} is closed`))
        return
      }
      if (callSignal?.aborted) {
        reject(abortError(callSignal))
        return
      }
      const id = this.nextId()
      const frame = this.#encode(message(id))
      const call = new QueuedCall(this.#owner, {
        id,
        kind,
        message,
        frame,
        timeout: callTimeout,
        resolve,
        reject,
        signal: callSignal,
      })
      this.#pending.set(id, call)
      this.#unsent.push(id)
      this.#pump()
    })
  }

  /**
   * A connection finished its handshake. Everything unanswered goes again, in its original order:
   * the server answers a call it has already applied from its record instead of applying it twice.
   * A request never written to this server run takes a fresh id first: it is new to the server, and
   * must not look like a resend. When the server is a new run, an action call already written
   * fails with `OUTCOME_UNKNOWN`, and every other request takes a fresh id.
   */
  resume(send: (frame: ClientFrame) => void, connection: ResumedConnection): void {
    const { newRun, binary, maxFrameBytes } = connection
    const calls = [...this.#pending.values()]
    this.#pending.clear()
    this.#binary = binary
    this.#maxFrameBytes = maxFrameBytes
    for (const call of calls) {
      if (newRun && call.written && call.kind === 'action') {
        call.reject(newRunError(this.#options.path, call.id))
        continue
      }
      // Those written are the oldest (requests go out in order), so ids stay in that order.
      if (newRun || !call.written) {
        call.id = this.nextId()
        call.frame = this.#encode(call.message(call.id))
        call.written = false
      } else if (!binary && call.frame.binary) {
        // Encoded for a server that took binary frames; this one may not.
        call.frame = textFrame(call.message(call.id))
      }
      call.sent = false
      this.#pending.set(call.id, call)
    }
    this.#unsent = [...this.#pending.keys()]
    this.#sentCount = 0
    this.#send = send
    this.#pump()
  }

  /** A binary frame when the connection takes them and the message is large, else JSON text. */
  #encode(message: ClientMessage): ClientFrame {
    return requestFrame(message, this.#binary)
  }

  /**
   * The connection is gone: nothing is sent until the next {@link resume}. After the server's
   * goodbye (`goodbye`), a call written only on this connection and not answered was not applied,
   * as if it had never been written; after any other loss, one written on it may have been.
   */
  pause(goodbye = false): void {
    this.#send = undefined
    for (const call of this.#pending.values()) {
      if (!call.sent) continue
      // Judged once, for the connection that carried it: attempts that fail later carried nothing.
      call.sent = false
      if (!goodbye) call.inDoubt = true
      else if (!call.inDoubt) call.written = false
    }
    this.#sentCount = 0
  }

  /** Settles the request a response answers; a response nobody waits for any more is dropped. */
  answer(response: ResponseMessage): void {
    const call = this.#take(response.id)
    // Undefined when answered after its caller stopped waiting.
    if (call !== undefined) settle(call, response, this.#options.awaitVersion)
  }

  /** A response that names request `id` did not decode: that request fails now, not at its timeout. */
  unreadable(id: number, error: IpcStateError): void {
    this.#take(id)?.reject(unreadableAnswer(this.#options.path, error))
  }

  /** Rejects every request with `error`, for a client that has closed. */
  rejectAll(error: IpcStateError): void {
    this.#send = undefined
    for (const call of [...this.#pending.values()]) call.reject(error)
    this.#pending.clear()
    this.#unsent = []
  }

  /** Removes an answered request from the queue, making room for the next one. */
  #take(id: number): QueuedCall | undefined {
    const call = this.#pending.get(id)
    if (call === undefined) return undefined
    this.#pending.delete(id)
    if (call.sent) this.#sentCount -= 1
    this.#pump()
    return call
  }

  #pump(): void {
    const send = this.#send
    if (send === undefined) return
    while (this.#sentCount < this.#options.maxInFlight && this.#unsent.length > 0) {
      const call = this.#pending.get(this.#unsent.shift()!)
      if (call === undefined || call.sent) continue
      const tooLarge = frameTooLarge(call.frame, this.#maxFrameBytes, this.#options.path)
      if (tooLarge !== undefined) {
        this.#pending.delete(call.id)
        call.reject(tooLarge)
        continue
      }
      call.sent = true
      call.written = true
      this.#sentCount += 1
      send(call.frame)
    }
  }
}
