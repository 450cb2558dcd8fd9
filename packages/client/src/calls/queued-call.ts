// One request in the queue: what it asks, where it stands, and how its answer settles it.
import { deepFreeze, type AbortSignalLike, type IpcStateError } from '@ipc-state/protocol'
import {
  errorFromWire,
  type ActionCallResult,
  type ClientMessage,
  type ResponseMessage,
  type StateGetResult,
} from '@ipc-state/protocol/wire'
import { abortError } from './abort-error.js'
import type { ClientFrame } from './call-frames.js'
import type { Deadlines, Expiring } from './deadlines.js'

/** Options for one request. */
export interface CallOptions {
  /** Abandons the wait with `ABORTED`. The server may still apply an action already sent. */
  signal?: AbortSignalLike
  /**
   * Overrides the client's `timeout` for this request, in milliseconds.
   */
  timeout?: number
}

/** What a request asks for: an action's result, the whole state, or the server's description. */
export type CallKind = 'action' | 'state' | 'info'

/** What a {@link QueuedCall} needs from the queue it waits in: one object for all its calls. */
export interface CallOwner {
  /** Where every call's timeout waits. */
  readonly deadlines: Deadlines
  /** Takes call `id` out of the queue, when it is still there. */
  take(id: number): void
  /** The `TIMEOUT` of a call, with the version the server applied it at when it answered. */
  timeoutError(timeout: number, appliedAt: number | undefined): IpcStateError
}

/** What a {@link QueuedCall} is made of. */
export interface QueuedCallInit {
  id: number
  kind: CallKind
  message: (id: number) => ClientMessage
  frame: ClientFrame
  /** Milliseconds until it fails with `TIMEOUT`. */
  timeout: number
  resolve(value: unknown): void
  reject(error: IpcStateError): void
  signal: AbortSignalLike | undefined
}

/**
 * One request in the queue, from the call until it settles: what it asks, where it stands, its
 * timeout and its abort. One object per call, with no closure of its own beyond an abort listener
 * when the call has a signal: a busy client makes many.
 */
export class QueuedCall implements Expiring {
  /** The request's id; a request never written to this server run gets a new one on each resume. */
  id: number
  /** Builds the request from its id. */
  readonly message: (id: number) => ClientMessage
  /** The request as it goes on the wire, with its current id: JSON text, or a binary frame. */
  frame: ClientFrame
  /** Whether it was written on a connection to this server run: then it keeps its id for good. */
  written = false
  /**
   * Whether a connection it was written on was lost without the server's goodbye: the server may
   * have applied it, so only an answer (or `OUTCOME_UNKNOWN`) settles it.
   */
  inDoubt = false
  /** Whether it went on the current connection. */
  sent = false
  readonly kind: CallKind
  readonly deadline: number
  readonly #owner: CallOwner
  readonly #timeout: number
  readonly #resolve: (value: unknown) => void
  readonly #reject: (error: IpcStateError) => void
  readonly #signal: AbortSignalLike | undefined
  readonly #onAbort: (() => void) | undefined
  #done = false
  /** Set once the server answered: only the wait for the replica to show that version is left. */
  #appliedAt: number | undefined

  constructor(owner: CallOwner, init: QueuedCallInit) {
    this.#owner = owner
    this.id = init.id
    this.kind = init.kind
    this.message = init.message
    this.frame = init.frame
    this.#timeout = init.timeout
    this.#resolve = init.resolve
    this.#reject = init.reject
    this.deadline = performance.now() + init.timeout
    owner.deadlines.add(this)
    const { signal } = init
    this.#signal = signal
    if (signal !== undefined) {
      this.#onAbort = () => this.#forget(abortError(signal))
      signal.addEventListener('abort', this.#onAbort, { once: true })
    }
  }

  resolve(value: unknown): void {
    if (this.#settle()) this.#resolve(value)
  }

  reject(error: IpcStateError): void {
    if (this.#settle()) this.#reject(error)
  }

  /** Answered by the server; only the replica is awaited now, and the timeout still runs. */
  awaitVersion(version: number): void {
    this.#appliedAt = version
  }

  /** Its timeout came. */
  expire(): void {
    this.#forget(this.#owner.timeoutError(this.#timeout, this.#appliedAt))
  }

  #settle(): boolean {
    if (this.#done) return false
    this.#done = true
    this.#owner.deadlines.delete(this)
    if (this.#onAbort !== undefined) this.#signal?.removeEventListener('abort', this.#onAbort)
    return true
  }

  /** Stops waiting, from the caller's side: the call leaves the queue if it is still there. */
  #forget(error: IpcStateError): void {
    if (!this.#settle()) return
    this.#owner.take(this.id)
    this.#reject(error)
  }
}

/**
 * Settles `call` with `response`: the error it carries, the frozen state or description asked
 * for, or an action's value, once `awaitVersion` (the replica's, when there is one) shows it.
 */
export function settle(
  call: QueuedCall,
  response: ResponseMessage,
  awaitVersion: ((version: number) => Promise<void> | undefined) | undefined,
): void {
  if (response.error !== undefined) {
    call.reject(errorFromWire(response.error))
  } else if (call.kind === 'state') {
    call.resolve(deepFreeze((response.result as StateGetResult).state))
  } else if (call.kind === 'info') {
    call.resolve(deepFreeze(response.result))
  } else {
    const result = response.result as ActionCallResult
    // Read your own writes: the caller sees its change in `client.state` when this resolves.
    const shown = awaitVersion?.(result.version)
    if (shown === undefined) call.resolve(result.value)
    else {
      call.awaitVersion(result.version)
      void shown.then(() => call.resolve(result.value))
    }
  }
}
