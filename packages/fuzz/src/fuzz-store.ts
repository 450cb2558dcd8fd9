// The store the data folder and Redis properties write with a real server and a real client.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from '@ipc-state/client'
import { defineStore } from '@ipc-state/protocol'
import { createServer, type Storage } from '@ipc-state/server'

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
})

/** Whether `state` has the shape of the store's initial state: what a server may serve. */
export function hasStoreShape(state: unknown): boolean {
  if (typeof state !== 'object' || state === null || Array.isArray(state)) return false
  const { counter, list, items } = state as Record<string, unknown>
  return (
    typeof counter === 'number' &&
    Array.isArray(list) &&
    list.every((item) => typeof item === 'string') &&
    typeof items === 'object' &&
    items !== null &&
    !Array.isArray(items) &&
    Object.values(items).every((item) => typeof item === 'object' && item !== null && !Array.isArray(item))
  )
}

/** A folder for sockets, removed with everything in it on dispose. */
export async function tempFolder(prefix: string): Promise<AsyncDisposable & { path: string }> {
  const path = await mkdtemp(join(tmpdir(), prefix))
  return { path, [Symbol.asyncDispose]: () => rm(path, { recursive: true, force: true }) }
}

let servers = 0

/** Starts a server of {@link fuzzStore} on `storage`, its socket in `socketRoot`. */
export function startFuzzServer(storage: Storage, socketRoot: string) {
  return createServer({ store: fuzzStore, storage, socketRoot: `${socketRoot}/`, appspace: 'fz.', id: String(servers++) })
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
