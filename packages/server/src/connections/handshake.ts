// A connection's hello: the protocol check, its instance's record made durable, then the answer (with the state, to a replica).
import { ErrorCode, IpcStateError, toIpcStateError } from '@ipc-state/protocol'
import { PROTOCOL_VERSION, ServerMessageType, type HelloRequest, type HelloResult } from '@ipc-state/protocol/wire'
import type { ServerMetrics } from '../metrics/server-metrics.js'
import type { FanOut } from './fan-out.js'
import type { Session } from './session.js'
import type { SnapshotFrame, StateFrames } from './state-frames.js'

/**
 * What a hello needs from the record of answered calls (`calls/call-record.ts`): which instances it
 * knows, and which connection each instance's answers go to.
 */
export interface InstanceRecord<C> {
  /**
   * The hello id a new record for `instanceId` would start at, when the storage does not hold one
   * yet; `undefined` when it does.
   */
  unpersisted(instanceId: string, helloId: number): number | undefined
  /** The storage now holds the record of `instanceId` that starts at `since`. */
  persisted(instanceId: string, since: number): void
  /** `connection` is where the answers of `instanceId` go from now on. */
  attach(instanceId: string, connection: C, helloId: number): void
  /** `connection` of `instanceId` closed. */
  detach(instanceId: string, connection: C): void
}

/** A new client instance's record, as the storage keeps it. */
export interface InstanceEntry {
  kind: 'instance'
  instanceId: string
  since: number
}

/** What a hello needs from the commit pipeline (`calls/commit-pipeline.ts`): a durable write. */
export interface InstanceWrites {
  /** Stores `entry`, then calls `deliver`, or `fail` when the write failed. */
  add(entry: InstanceEntry, deliver: () => void, fail: (error: IpcStateError) => void): void
}

/** What the server's presence (`presence/presence.ts`) hears of client instances from their connections. */
export interface PresenceEvents {
  /** A connection of the instance was greeted. */
  connected(instanceId: string, clientId: string): void
  /** A greeted connection of the instance closed. */
  disconnected(instanceId: string): void
  /** The instance said goodbye: it closes for good. */
  bye(instanceId: string): void
}

/** What {@link Handshake} reads and where it registers a greeted session. */
export interface HandshakeOptions {
  /** The socket path, for messages. */
  path: string
  /** Told to the client, which then refuses to send a larger frame. */
  maxFrameBytes: number
  /** The state as it is now. */
  store: { readonly epoch: string; readonly version: number }
  /** The state encoded once per version, for a replica's snapshot. */
  snapshots: StateFrames
  /** Where a greeted client's instance gets its answers. */
  record: InstanceRecord<Session>
  /** Where a replica gets its changes. */
  fanOut: FanOut<Session>
  /** Where a new client instance's record waits to be durable before its hello is answered. */
  pipeline: InstanceWrites
  /** Told of each greeted connection. */
  presence: PresenceEvents
  /** Where resyncs are counted; none when the server measures nothing. */
  metrics?: ServerMetrics | undefined
}

/** Answers each connection's hello, once per connection. */
export class Handshake {
  readonly #options: HandshakeOptions
  /** Sessions whose hello waits for their instance's record to be stored. */
  readonly #greeting = new WeakSet<Session>()

  constructor(options: HandshakeOptions) {
    this.#options = options
  }

  /** Takes the hello of `session`. */
  hello(session: Session, hello: HelloRequest): void {
    const { path } = this.#options
    if (hello.protocol !== PROTOCOL_VERSION) {
      const error = new IpcStateError(
        ErrorCode.PROTOCOL_MISMATCH,
        `Client speaks protocol ${hello.protocol}, server at ${path} speaks ${PROTOCOL_VERSION}`,
        { data: { client: hello.protocol, server: PROTOCOL_VERSION } },
      )
      session.fail(hello.id, error)
      session.refuse(error)
      return
    }
    if (session.clientId !== undefined || this.#greeting.has(session)) {
      session.fail(hello.id, new IpcStateError(ErrorCode.BAD_REQUEST, '"hello" was already sent on this connection'))
      return
    }
    // Taken: the handshake clock stops here, not at the answer, which may wait on the storage.
    session.introduced()
    const { record, pipeline } = this.#options
    const instanceId = hello.instanceId ?? hello.clientId
    const since = record.unpersisted(instanceId, hello.id)
    if (since === undefined) {
      // An instance the server knows: a replica that reconnects gets the whole state again.
      if (this.#greet(session, hello, instanceId) && hello.replica) this.#options.metrics?.resynced('reconnect')
      return
    }
    // A new instance: its record must be durable before it may send a call, so that a call it
    // resends after a restart is known. Greeted even if that write failed: it can read, and its
    // next hello tries again.
    this.#greeting.add(session)
    pipeline.add(
      { kind: 'instance', instanceId, since },
      () => {
        this.#greeting.delete(session)
        if (this.#greet(session, hello, instanceId)) record.persisted(instanceId, since)
      },
      () => {
        this.#greeting.delete(session)
        this.#greet(session, hello, instanceId)
      },
    )
  }

  /**
   * Answers a hello with the server's epoch and version, and a replica's with the state too, and
   * makes the session the one its instance's answers go to.
   * @returns whether it was greeted: not when it closed meanwhile, or its snapshot failed
   */
  #greet(session: Session, hello: HelloRequest, instanceId: string): boolean {
    if (!session.open) return false
    const { store, fanOut, snapshots, record, maxFrameBytes } = this.#options
    const answer = (state?: unknown): HelloResult => ({
      protocol: PROTOCOL_VERSION,
      epoch: store.epoch,
      version: store.version,
      ...(hello.replica ? { state } : {}),
      ...(hello.binary === true ? { binary: true } : {}),
      ...(hello.batch === true ? { batch: true } : {}),
      maxFrameBytes,
    })
    let snapshot: SnapshotFrame | undefined
    if (hello.replica) {
      try {
        snapshot = snapshots.frame((state) => ({ type: ServerMessageType.Response, data: { id: hello.id, result: answer(state) } }))
      } catch (error) {
        // Not greeted: the client tries again on a new connection.
        session.fail(hello.id, toIpcStateError(error))
        return false
      }
    }
    session.clientId = hello.clientId
    session.instanceId = instanceId
    record.attach(instanceId, session, hello.id)
    session.replica = hello.replica
    session.binary = hello.binary === true
    session.batch = hello.batch === true
    if (hello.replica) fanOut.add(session)
    if (snapshot === undefined) session.respond(hello.id, answer())
    else session.sendSnapshot(snapshot)
    this.#options.presence.connected(instanceId, hello.clientId)
    return true
  }
}
