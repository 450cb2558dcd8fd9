// Shared by this package's unit tests; not part of the build (only index.ts is an entry).
import { ErrorCode, IpcStateError, defineStore, type Patch, type ServerInfoResult, type StateOf } from '@ipc-state/protocol'
import {
  ClientMessageType,
  PROTOCOL_VERSION,
  ServerMessageType,
  type ActionCallRequest,
  type ClientMessage,
  type ServerMessage,
} from '@ipc-state/protocol/wire'
import type { ClientCoreOptions } from '../src/client-options.js'
import { connectOver } from '../src/connect.js'
import type { IpcStateClient } from '../src/ipc-state-client.js'
import { createMemoryTransport, type MemoryAttempt, type MemoryPeer, type MemoryTransport } from './memory-transport.js'

/** The store the test server serves; only its types are used, the server below applies it by hand. */
export const testStore = defineStore({
  initialState: { counter: 0, list: [] as string[] },
  actions: {
    increment(state, by: number = 1) {
      state.counter += by
      return state.counter
    },
    push(state, item: string) {
      state.list.push(item)
      return state.list.length
    },
    fail() {
      throw new Error('failed on purpose')
    },
  },
})
export type TestStore = typeof testStore
export type TestState = StateOf<TestStore>
export type TestClient = IpcStateClient<TestStore>

/** What the test server does with a connection attempt. */
export type AttemptAnswer = 'accept' | 'refuse' | 'hang'

/** Options for {@link createTestServer}. */
export interface TestServerOptions {
  /**
   * Decides attempt `index` (from 0).
   * @default accept every attempt
   */
  attempt?: (index: number, attempt: MemoryAttempt) => AttemptAnswer
  epoch?: string
}

/** A well-behaved server over the memory transport, whose every step a test can take over. */
export interface TestServer {
  readonly transport: MemoryTransport
  /** Accepted connections, oldest first. */
  readonly peers: MemoryPeer[]
  /** The newest accepted connection. */
  readonly peer: MemoryPeer
  state: TestState
  version: number
  epoch: string
  /** Whether it takes binary frames from a client that offers them (and says so in its hello answer). */
  binary: boolean
  /** The frame limit its hello answer states; `undefined` answers as a server older than that field. */
  maxFrameBytes: number | undefined
  /** Each action call applied, as `instanceId:id`: a resent call appears once. */
  readonly applied: string[]
  /** Sees each client message first; returning `true` skips the default answer. */
  intercept: ((message: ClientMessage, peer: MemoryPeer) => boolean | undefined) | undefined
  /** Connects a client over the memory transport, with no wait between retries unless told. */
  connect(options?: ClientCoreOptions): Promise<TestClient>
  /** Answers a message as a well-behaved server does. */
  handle(message: ClientMessage, peer: MemoryPeer): void
  /** Applies a call (once per instance and id) and returns what to send, without sending it. */
  run(peer: MemoryPeer, call: ActionCallRequest): { change?: ServerMessage; response: ServerMessage }
  /** What it answers `server/info` with: its epoch, version and open connections, and fixed limits. */
  info(): ServerInfoResult
  /** Sends a message to every open connection that keeps a replica. */
  broadcast(message: ServerMessage): void
  /** Resolves with the next connection accepted after this call. */
  nextPeer(): Promise<MemoryPeer>
  /** Becomes a new server run: a new epoch, version 0, and no record of answered calls. */
  restart(state: TestState, epoch: string): void
}

const response = (id: number, result: unknown): ServerMessage => ({ type: ServerMessageType.Response, data: { id, result } })
const errorResponse = (id: number, error: IpcStateError): ServerMessage => ({
  type: ServerMessageType.Response,
  data: { id, error: { code: error.code, message: error.message } },
})

/** Creates a {@link TestServer} holding `{ counter: 0, list: [] }` at version 0. */
export function createTestServer(options: TestServerOptions = {}): TestServer {
  const sessions = new Map<MemoryPeer, { instanceId: string; clientId: string; replica: boolean }>()
  const answered = new Map<string, ServerMessage>()
  const peerWaiters: ((peer: MemoryPeer) => void)[] = []
  let attempts = 0

  const transport = createMemoryTransport({
    onAttempt(attempt) {
      const answer = options.attempt?.(attempts++, attempt) ?? 'accept'
      if (answer === 'refuse') attempt.refuse()
      if (answer !== 'accept') return
      const peer = attempt.accept()
      server.peers.push(peer)
      peer.onMessage((message) => {
        if (server.intercept?.(message, peer) !== true) server.handle(message, peer)
      })
      for (const waiter of peerWaiters.splice(0)) waiter(peer)
    },
  })

  const apply = (call: ActionCallRequest): { patches: Patch[]; value: unknown } => {
    const { state } = server
    if (call.action === 'increment') {
      state.counter += (call.input as number | undefined) ?? 1
      return { patches: [{ op: 'replace', path: ['counter'], value: state.counter }], value: state.counter }
    }
    if (call.action === 'push') {
      state.list.push(call.input as string)
      return { patches: [{ op: 'add', path: ['list', state.list.length - 1], value: call.input }], value: state.list.length }
    }
    if (call.action === 'fail') throw new IpcStateError(ErrorCode.ACTION_FAILED, 'failed on purpose')
    throw new IpcStateError(ErrorCode.UNKNOWN_ACTION, `No action named ${call.action}`)
  }

  const server: TestServer = {
    transport,
    peers: [],
    get peer() {
      const peer = server.peers.at(-1)
      if (peer === undefined) throw new Error('no connection was accepted yet')
      return peer
    },
    state: structuredClone(testStore.initialState),
    version: 0,
    epoch: options.epoch ?? 'epoch-1',
    binary: false,
    maxFrameBytes: undefined,
    applied: [],
    intercept: undefined,
    connect: (connectOptions = {}) =>
      connectOver<TestStore>(transport.at('/tmp/test.memory'), {
        retryDelay: () => 0,
        ...connectOptions,
      }),
    handle(message, peer) {
      switch (message.type) {
        case ClientMessageType.Hello: {
          const { id, protocol, instanceId, clientId, replica } = message.data
          if (protocol !== PROTOCOL_VERSION) {
            const mismatch = new IpcStateError(ErrorCode.PROTOCOL_MISMATCH, `Client speaks ${protocol}, server ${PROTOCOL_VERSION}`)
            peer.send(errorResponse(id, mismatch))
            return
          }
          sessions.set(peer, { instanceId: instanceId ?? clientId, clientId, replica })
          const { epoch, version, state } = server
          const extra = {
            ...(server.binary && message.data.binary === true ? { binary: true } : {}),
            ...(server.maxFrameBytes === undefined ? {} : { maxFrameBytes: server.maxFrameBytes }),
          }
          peer.send(response(id, replica ? { protocol, epoch, version, state, ...extra } : { protocol, epoch, version, ...extra }))
          return
        }
        case ClientMessageType.StateGet:
          peer.send(response(message.data.id, { epoch: server.epoch, version: server.version, state: server.state }))
          return
        case ClientMessageType.ServerInfo:
          peer.send(response(message.data.id, server.info()))
          return
        case ClientMessageType.ActionCall: {
          const { change, response } = server.run(peer, message.data)
          if (change !== undefined) server.broadcast(change)
          peer.send(response)
          return
        }
      }
    },
    run(peer, call) {
      const session = sessions.get(peer)
      const key = `${session?.instanceId}:${call.id}`
      const known = answered.get(key)
      if (known !== undefined) return { response: known }
      let outcome: { change?: ServerMessage; response: ServerMessage }
      try {
        const { patches, value } = apply(call)
        server.version += 1
        server.applied.push(key)
        outcome = {
          change: {
            type: ServerMessageType.StateChanged,
            data: {
              epoch: server.epoch,
              version: server.version,
              patches,
              action: call.action,
              ...(session === undefined ? {} : { clientId: session.clientId }),
            },
          },
          response: response(call.id, { value, version: server.version }),
        }
      } catch (error) {
        outcome = { response: errorResponse(call.id, error as IpcStateError) }
      }
      answered.set(key, outcome.response)
      return outcome
    },
    info() {
      const open = [...sessions].filter(([peer]) => !peer.ended)
      return {
        protocol: PROTOCOL_VERSION,
        epoch: server.epoch,
        version: server.version,
        path: '/tmp/test.memory',
        uptimeMs: 1,
        connections: open.map(([, { clientId, instanceId, replica }]) => ({
          clientId,
          instanceId,
          replica,
          inFlight: 0,
          queuedBytes: 0,
        })),
        connectionCount: open.length,
        counters: { calls: server.applied.length, changes: server.version },
        limits: { maxConnections: 1, maxInFlight: 2, maxFrameBytes: 3, maxBufferedBytes: 4, maxTotalBufferedBytes: 5 },
      }
    },
    broadcast(message) {
      for (const [peer, session] of sessions) {
        if (session.replica && !peer.ended) peer.send(message)
      }
    },
    nextPeer: () => new Promise((resolve) => peerWaiters.push(resolve)),
    restart(state, epoch) {
      server.state = state
      server.version = 0
      server.epoch = epoch
      answered.clear()
    },
  }
  return server
}

/** The data of each client message, by type. */
export type ClientData = { [M in ClientMessage as M['type']]: M['data'] }

/** Resolves with the next message of `type` the client writes to `peer`, skipping others. */
export async function nextOf<K extends keyof ClientData>(peer: MemoryPeer, type: K): Promise<ClientData[K]> {
  for (;;) {
    const message = await peer.next()
    if (message.type === type) return message.data as ClientData[K]
  }
}

/** Settles `promise` and returns what it rejected with; fails when it resolves. */
export async function caught(promise: Promise<unknown>): Promise<IpcStateError> {
  try {
    await promise
  } catch (error) {
    return error as IpcStateError
  }
  throw new Error('expected a rejection')
}
