// One request in the queue: what it asks, where it stands, and how its answer settles it.
import { deepFreeze, type AbortSignalLike, type IpcStateError } from '@ipc-state/protocol'
import {
  errorFromWire,
  type ActionCallResult,
  type ClientMessage,
  type ResponseMessage,
  type StateGetResult,
} from '@ipc-state/protocol/wire'
import type { ClientFrame } from './call-frames.js'

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

export interface QueuedCall {
  /** The request's id; a request never written to this server run gets a new one on each resume. */
  id: number
  /** Builds the request from its id. */
  readonly message: (id: number) => ClientMessage
  /** The request as it goes on the wire, with its current id: JSON text, or a binary frame. */
  frame: ClientFrame
  /** Whether it was written on a connection to this server run: then it keeps its id for good. */
  written: boolean
  /**
   * Whether a connection it was written on was lost without the server's goodbye: the server may
   * have applied it, so only an answer (or `OUTCOME_UNKNOWN`) settles it.
   */
  inDoubt: boolean
  readonly kind: CallKind
  resolve(value: unknown): void
  reject(error: IpcStateError): void
  /** Answered by the server; only the replica is awaited now, and the timeout still runs. */
  awaitVersion(version: number): void
  sent: boolean
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
