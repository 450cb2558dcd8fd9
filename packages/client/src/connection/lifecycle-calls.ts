// What the connection's lifecycle and the queue of calls tell each other: the calls go on each connection that finished its handshake.
import type { IpcStateError } from '@ipc-state/protocol'
import type { ResponseMessage } from '@ipc-state/protocol/wire'
import type { ClientFrame } from '../calls/call-frames.js'

/** What a connection that finished its handshake tells the queue of calls. */
export interface ResumedConnection {
  /** The server is another run than the one the calls were written to: its epoch changed. */
  newRun: boolean
  /** The server takes binary frames on this connection. */
  binary: boolean
  /** The largest frame the server reads, when it is known: a larger call is refused, not sent. */
  maxFrameBytes: number | undefined
}

/** What the lifecycle needs from the queue of calls (a `CallQueue`). */
export interface LifecycleCalls {
  /** The next request id; the hello and resync requests share the calls' id space. */
  nextId(): number
  /** A connection finished its handshake: send every unanswered call through `send`. */
  resume(send: (frame: ClientFrame) => void, connection: ResumedConnection): void
  /**
   * The connection is gone: send nothing until the next `resume`. `goodbye` says the server
   * announced it was closing first: it answered every call it took before that notice, so a call
   * still unanswered was not applied.
   */
  pause(goodbye: boolean): void
  /** A response to a request of the queue's. */
  answer(response: ResponseMessage): void
  /** A response to request `id` that did not decode. */
  unreadable(id: number, error: IpcStateError): void
  /** The client closed: every call fails with `error`. */
  rejectAll(error: IpcStateError): void
}
