// The seam through which servers sharing a storage pass their clients' calls to the one server that runs them all.
import type { IpcStateError } from '@ipc-state/protocol'

/**
 * A client's call that a server passed on to the writer, as the storage carries it. The storage
 * checks only the shape (strings and a number, within its size bounds): the writer decodes `frame`
 * with the checks of a client's frame, and checks its input again, as from any client.
 */
export interface RelayedCall {
  /** The id of the server the client is connected to (its {@link ServerLeases} id): where the answer goes. */
  from: string
  instanceId: string
  /**
   * The id of the hello that made the instance's record on the relaying server (see
   * `StoredInstance.since`), for messages: the writer takes the record itself from the log, never
   * from a relayed call (an old `since` would make a resend of a call whose record it forgot look new).
   */
  since: number
  clientId: string
  /** The call as a client's `action/call` message, JSON text. */
  frame: string
}

/** The writer's answer to a relayed call that changed nothing (or failed): a change carries the others. */
export interface RelayedReply {
  instanceId: string
  id: number
  /** The data of the `response` message, JSON text, as the caller gets it. */
  responseJson: string
}

/**
 * For a storage several servers share that elects one of them, the writer, to run every call:
 * the others pass their clients' calls to it through the storage, and answer them from the log
 * (a call that changed the state) or from the writer's reply (one that did not). No call is then
 * run twice on contention: the writer's batches never race another server's.
 *
 * Any server may still write (its clients' hellos, presence hooks, its own `server.actions`): the
 * storage's compare-and-append keeps one order, and the record of answered calls makes a call
 * that two servers ran (the writer changed while it was under way) apply once.
 */
export interface CallRelay {
  /** Whether this server is the writer now: it runs calls itself. Asked for each call. */
  readonly writing: boolean
  /** Passes calls to the writer, in order. The storage sends what one turn passes as one write. */
  forward(calls: readonly RelayedCall[]): void
  /** Sends the writer's replies to the server `to` that relayed the calls. */
  reply(to: string, replies: readonly RelayedReply[]): void
}

/** What the server does with what a {@link CallRelay} hands it (see `StorageContext.relay`). */
export interface RelayTarget {
  /**
   * The writer (this server) runs these calls, in order, as its own clients' calls. `source` says
   * where in the storage they were read (say `app:calls, entry 1-0`), for the log when one is not a call.
   */
  run(calls: readonly RelayedCall[], source?: string): void
  /** The writer's replies to calls this server relayed; `source` as for {@link run}. */
  replied(replies: readonly RelayedReply[], source?: string): void
  /**
   * Calls this server relayed that never left it: no writer runs them, and they are answered with
   * `error`: `BACKEND_UNAVAILABLE` when the storage is unreachable (a client may retry), or
   * `FRAME_TOO_LARGE` for a call larger than the writer takes from the storage.
   */
  refused(calls: readonly RelayedCall[], error: IpcStateError): void
  /**
   * The writer changed (or the storage was unreachable): calls relayed and not answered yet may
   * never be, and this server relays them again. A call that ran already is answered from the
   * record, never run twice.
   */
  relayAgain(): void
}
