// Shared by this package's unit tests; not part of the build (only index.ts is an entry).
import { defineStore } from '@ipc-state/protocol'
import { ClientMessageType, PROTOCOL_VERSION, type HelloResult, type ResponseMessage } from '@ipc-state/protocol/wire'
import type { StandardSchemaV1 } from '@standard-schema/spec'
import { createMemoryTransport, type MemoryPeer, type MemoryTransport } from './memory-transport.js'
import type { UnixSocketServerOptions } from '../src/server-options.js'
import { parseServerOptions } from '../src/server-settings.js'
import { startServer, type IpcStateServer } from '../src/server.js'

/**
 * An input check that stays pending until the test settles it, like a schema that looks something
 * up asynchronously. `pending` lists the inputs waiting, oldest first.
 */
export function createGate() {
  const pending: { input: unknown; settle: (result: StandardSchemaV1.Result<string>) => void }[] = []
  const schema: StandardSchemaV1<unknown, string> = {
    '~standard': {
      version: 1,
      vendor: 'unit-test',
      validate: (input) => new Promise((settle) => pending.push({ input, settle })),
    },
  }
  const take = (input: unknown) => {
    const index = pending.findIndex((entry) => entry.input === input)
    if (index === -1) throw new Error(`No check waits for ${JSON.stringify(input)}`)
    return pending.splice(index, 1)[0]!
  }
  return {
    schema,
    pending,
    /** Lets the check of `input` pass. */
    pass(input: string) {
      take(input).settle({ value: input })
    },
    /** Makes the check of `input` fail with `message`. */
    fail(input: string, message: string) {
      take(input).settle({ issues: [{ message }] })
    },
  }
}

interface TestState {
  counter: number
  log: string[]
  value: unknown
}

/**
 * Writes of values JSON does not carry as they are (undefined, NaN, Infinity, -0, Date), made by
 * an action on the server (`writeOdd(step)`): no client could send them.
 */
export const nonJsonWrites: ((state: TestState) => void)[] = [
  (state) => {
    state.value = { a: 1, b: undefined, c: Number.NaN, d: new Date(0), e: [undefined, Number.POSITIVE_INFINITY, -0] }
  },
  (state) => {
    state.value = undefined
  },
  (state) => {
    state.value = { nested: { when: new Date(86_400_000), gone: undefined }, list: [1, Number.NaN] }
  },
  (state) => {
    state.log.push(undefined as unknown as string, 'kept')
  },
  (state) => {
    state.value = { k: 1 }
    ;(state.value as { k: unknown }).k = undefined
  },
  (state) => {
    state.value = Number.NaN
  },
]

/** A store with the shapes the unit tests need, and a gate for its asynchronously checked action. */
export function createTestStore() {
  const gate = createGate()
  const store = defineStore({
    initialState: { counter: 0, log: [], value: null } as TestState,
    actions: {
      increment(state, by: number = 1) {
        state.counter += by
        return state.counter
      },
      append(state, text: string) {
        state.log.push(text)
        return state.log.length
      },
      /** Like `append`, behind an asynchronous input check (`gate`). */
      checked(state, text: string) {
        state.log.push(text)
        return state.log.length
      },
      /** Writes any value, JSON or not, at `value`. */
      write(state, value: unknown) {
        state.value = value
      },
      /** Applies `nonJsonWrites[step]`. */
      writeOdd(state, step: number) {
        nonJsonWrites[step]!(state)
      },
      peek(state) {
        return state.counter
      },
      explode(state) {
        state.counter += 1_000
        throw new Error('boom')
      },
    },
    inputs: { checked: gate.schema },
  })
  return { store, gate }
}

export type TestStore = ReturnType<typeof createTestStore>['store']
type TestOptions = Omit<UnixSocketServerOptions<TestState, TestStore['actions']>, 'store' | 'id'>

/** What a hello says, with defaults. */
export interface HelloOptions {
  clientId?: string
  instanceId?: string
  replica?: boolean
  /** The hello's request id. @default 0 */
  id?: number
}

/** A running server over a memory transport, closed by `await using`. */
export interface TestServer {
  server: IpcStateServer<TestState, TestStore['actions']>
  transport: MemoryTransport
  gate: ReturnType<typeof createGate>
  /** Opens a raw connection. */
  connect(): Promise<MemoryPeer>
  /** Opens a connection and says hello; fails the test if the hello is refused. */
  greet(hello?: HelloOptions): Promise<{ peer: MemoryPeer; result: HelloResult }>
  [Symbol.asyncDispose](): Promise<void>
}

/** Starts the whole server over a memory transport. */
export async function startTestServer(options: TestOptions = {}): Promise<TestServer> {
  const { store, gate } = createTestStore()
  const transport = createMemoryTransport()
  const server = await startServer(parseServerOptions({ store, id: 'unit', ...options }), transport)
  const connect = () => transport.connect()
  return {
    server,
    transport,
    gate,
    connect,
    async greet(hello = {}) {
      const peer = await connect()
      const answer = await sayHello(peer, hello)
      if (answer.error !== undefined) throw new Error(`hello refused: ${answer.error.code}`)
      return { peer, result: answer.result as HelloResult }
    },
    [Symbol.asyncDispose]: () => server.close(),
  }
}

/** Says hello on `peer` and returns the response. */
export function sayHello(peer: MemoryPeer, hello: HelloOptions = {}, protocol = PROTOCOL_VERSION): Promise<ResponseMessage> {
  const { clientId = 'client', replica = false, id = 0, instanceId } = hello
  peer.send({
    type: ClientMessageType.Hello,
    data: { id, protocol, clientId, replica, ...(instanceId === undefined ? {} : { instanceId }) },
  })
  return peer.response(id)
}

/** Calls `action` on `peer` as request `id` and returns the response. */
export function call(peer: MemoryPeer, id: number, action: string, input?: unknown): Promise<ResponseMessage> {
  send(peer, id, action, input)
  return peer.response(id)
}

/** Sends an action call without waiting for its answer. */
export function send(peer: MemoryPeer, id: number, action: string, input?: unknown): void {
  peer.send({ type: ClientMessageType.ActionCall, data: input === undefined ? { id, action } : { id, action, input } })
}

/** A sink that takes `room` writes, then wants a drain; `written()` completes the oldest write. */
export function recordingSink(room = Number.POSITIVE_INFINITY) {
  const writes: { bytes: Uint8Array; written: () => void }[] = []
  return {
    writes,
    room,
    write(bytes: Uint8Array, written: () => void) {
      writes.push({ bytes, written })
      return writes.length < this.room
    },
    /** Completes every write so far. */
    flush() {
      for (const { written } of writes.splice(0)) written()
    },
  }
}
