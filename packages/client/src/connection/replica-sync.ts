// Keeps the replica current on a connection: changes in order, a resync when one is missing, its snapshot checked.
import { ErrorCode, IpcStateError, type Logger } from '@ipc-state/protocol'
import {
  ClientMessageType,
  type HelloResult,
  type ResponseMessage,
  type StateChangedNotification,
  type StateGetResult,
  errorFromWire,
} from '@ipc-state/protocol/wire'
import { textBytes } from '../calls/call-frames.js'
import type { Replica } from '../replica/replica.js'
import { snapshotProblem } from './server-results.js'

/** What the client does with its replica (a `Replica`): fill it, keep it current, let its waiters go. */
export type SyncedReplica = Pick<Replica<unknown>, 'epoch' | 'version' | 'reset' | 'apply' | 'releaseAll'>

/** What a {@link ReplicaSync} needs. */
export interface ReplicaSyncOptions {
  /** The replica; absent for a client with `replica: false`, which then gets no change. */
  readonly replica: SyncedReplica | undefined
  /** The server's name, for errors. */
  readonly path: string
  readonly logger: Logger
  /** The next request id: a resync shares the calls' id space. */
  nextId(): number
}

/**
 * Applies the changes the server publishes to the replica, and fetches a fresh snapshot
 * (`state/get`) when one does not follow the replica or a frame did not decode. A snapshot that
 * would move the replica back, or is no snapshot, is not believed.
 */
export class ReplicaSync {
  readonly #options: ReplicaSyncOptions
  #resyncId = -1

  constructor(options: ReplicaSyncOptions) {
    this.#options = options
  }

  /** Whether the client keeps a replica. */
  get enabled(): boolean {
    return this.#options.replica !== undefined
  }

  /**
   * Takes the snapshot a hello brought. One of the store the replica holds, at an older version (a
   * server sharing the store that has not yet followed every change the last one showed) is not
   * taken: the replica keeps its newer state, skips the changes it has, and goes on from there.
   */
  greeted(hello: Pick<HelloResult, 'epoch' | 'version' | 'state'>): void {
    const { replica, logger } = this.#options
    if (replica === undefined) return
    if (hello.epoch === replica.epoch && hello.version < replica.version) {
      logger.info?.('the server is behind the replica; keeping the replica', { server: hello.version, replica: replica.version })
      return
    }
    replica.reset(hello.epoch, hello.version, hello.state)
  }

  /**
   * Applies a published change (or a batch of them, as one); asks for a snapshot through `send`
   * when it does not follow.
   */
  change(change: StateChangedNotification, send: ((bytes: Uint8Array) => void) | undefined): void {
    const { epoch, version, patches, action, clientId, from } = change
    if (this.#options.replica?.apply(epoch, version, patches, { action, clientId }, from) === 'gap') {
      this.resync('a change did not follow the replica', send)
    }
  }

  /**
   * Asks for a snapshot, unless one is asked for already, or `send` is undefined: before the
   * handshake is answered, the hello's snapshot is on its way anyway.
   */
  resync(reason: string, send: ((bytes: Uint8Array) => void) | undefined): void {
    if (this.#resyncId !== -1 || send === undefined || this.#options.replica === undefined) return
    this.#options.logger.info?.('resyncing the replica', { reason, version: this.#options.replica.version })
    this.#resyncId = this.#options.nextId()
    send(textBytes({ type: ClientMessageType.StateGet, data: { id: this.#resyncId } }))
  }

  /** Whether `id` is the resync's request. */
  answers(id: number): boolean {
    return id === this.#resyncId
  }

  /**
   * Takes the answer to the resync: resets the replica to its snapshot, or returns why the
   * connection must be dropped (a new one brings a hello's snapshot).
   */
  answer(response: ResponseMessage): IpcStateError | undefined {
    this.#resyncId = -1
    const { logger, path } = this.#options
    if (response.error !== undefined) {
      // Without a snapshot the replica cannot catch up on this connection.
      logger.warn?.('the server refused a snapshot; reconnecting', { ...response.error })
      return errorFromWire(response.error)
    }
    const problem = this.#snapshotProblem(response.result)
    if (problem === undefined) {
      const snapshot = response.result as StateGetResult
      this.#options.replica?.reset(snapshot.epoch, snapshot.version, snapshot.state)
      return undefined
    }
    logger.error?.('the server sent a snapshot the replica cannot take; reconnecting', { reason: problem })
    return new IpcStateError(ErrorCode.BAD_REQUEST, `The server at ${path} answered a resync with ${problem}; reconnecting`)
  }

  /** The connection is gone: a resync asked on it will not be answered. */
  lost(): void {
    this.#resyncId = -1
  }

  /** What makes a resync's result unfit for the replica, or `undefined` when nothing does. */
  #snapshotProblem(result: unknown): string | undefined {
    const problem = snapshotProblem(result)
    const { replica } = this.#options
    if (problem !== undefined || replica === undefined) return problem
    const { epoch, version } = result as StateGetResult
    if (epoch === replica.epoch && version < replica.version) {
      return `a snapshot at version ${version}, older than the replica's ${replica.version} of the same store`
    }
    return undefined
  }
}
