// The store the data folder, Redis and server properties write with a real server and a real client.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, type IpcStateClient } from '@ipc-state/client'
import { defineStore } from '@ipc-state/protocol'
import { createServer, type Storage } from '@ipc-state/server'
import fc from 'fast-check'

export interface FuzzState {
  counter: number
  list: string[]
  items: Record<string, Record<string, unknown>>
}

export const fuzzStore = defineStore({
  initialState: { counter: 0, list: [], items: {} } as FuzzState,
  actions: {
    increment(state, by: number) {
      state.counter += by
      return state.counter
    },
    push(state, text: string) {
      state.list.push(text)
      return state.list.length
    },
    put(state, input: { key: string; sub: string; value: unknown }) {
      state.items[input.key] ??= {}
      state.items[input.key]![input.sub] = input.value
    },
    drop(state, index: number) {
      state.list.splice(index, 1)
    },
  },
  // Hooks, so that what the storages keep holds joins, leaves and who is present, for the properties to damage.
  onClientJoin(state) {
    state.counter += 0
  },
  onClientLeave(state) {
    state.counter += 0
  },
})

/** Whether `state` is an object whose `counter`, `list` and `items` have the JSON kinds of the initial state's. */
export function hasTopLevelShape(state: unknown): boolean {
  if (typeof state !== 'object' || state === null || Array.isArray(state)) return false
  const { counter, list, items } = state as Record<string, unknown>
  return typeof counter === 'number' && Array.isArray(list) && typeof items === 'object' && items !== null && !Array.isArray(items)
}

/** A folder for sockets, removed with everything in it on dispose. */
export async function tempFolder(prefix: string): Promise<AsyncDisposable & { path: string }> {
  const path = await mkdtemp(join(tmpdir(), prefix))
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) }
}

let servers = 0

/** Starts a server of {@link fuzzStore} on `storage` (in memory without it), its socket in `socketRoot`, with `options`. */
export function startFuzzServer(
  storage: Storage | undefined,
  socketRoot: string,
  options: { frameTimeout?: number; handshakeTimeout?: number } = {},
) {
  return createServer({
    ...options,
    store: fuzzStore,
    ...(storage === undefined ? {} : { storage }),
    socketRoot: `${socketRoot}/`,
    appspace: 'fz.',
    id: String(servers++),
  })
}

/** One call of {@link fuzzStore}'s actions, with ordinary keys and any JSON value. */
export type FuzzCall =
  | { action: 'increment'; input: number }
  | { action: 'push'; input: string }
  | { action: 'put'; input: { key: string; sub: string; value: unknown } }
  | { action: 'drop'; input: number }

const plainKey = fc.string({ minLength: 1, maxLength: 6 }).filter((key) => !(key in Object.prototype) && key !== '__proto__')

export const fuzzCall: fc.Arbitrary<FuzzCall> = fc.oneof(
  fc.record({ action: fc.constant('increment' as const), input: fc.integer({ min: -1000, max: 1000 }) }),
  fc.record({ action: fc.constant('push' as const), input: fc.string({ maxLength: 20 }) }),
  fc.record({
    action: fc.constant('put' as const),
    input: fc.record({ key: plainKey, sub: plainKey, value: fc.jsonValue({ maxDepth: 3 }) }),
  }),
  fc.record({ action: fc.constant('drop' as const), input: fc.nat({ max: 4 }) }),
)

/** Connects a client to `server`, whose socket is in `socketRoot`. */
export function connectTo(
  server: { path: string },
  socketRoot: string,
  timeout?: number,
): Promise<IpcStateClient<typeof fuzzStore>> {
  return connect<typeof fuzzStore>({
    socketRoot: `${socketRoot}/`,
    appspace: 'fz.',
    id: server.path.split('fz.').at(-1)!,
    ...(timeout === undefined ? {} : { timeout }),
  })
}

/** Makes `calls` one after the other. */
export async function runCalls(client: IpcStateClient<typeof fuzzStore>, calls: readonly FuzzCall[]): Promise<void> {
  for (const call of calls) await client.call(call.action, call.input as never)
}

/** Runs the calls that fill a store: increments, pushes, puts and drops, through a real client. */
export async function writeSome(storage: Storage, socketRoot: string, calls: number): Promise<void> {
  await using server = await startFuzzServer(storage, socketRoot)
  const client = await connect<typeof fuzzStore>({
    socketRoot: `${socketRoot}/`,
    appspace: 'fz.',
    id: server.path.split('fz.')[1]!,
  })
  try {
    for (let i = 0; i < calls; i++) {
      await client.actions.increment(i + 1)
      await client.actions.push(`item ${i}`)
      await client.actions.put({ key: `k${i % 3}`, sub: `s${i}`, value: { at: i, list: [i, `${i}`, null, true] } })
      if (i % 4 === 3) await client.actions.drop(0)
    }
  } finally {
    await client.close()
  }
}
