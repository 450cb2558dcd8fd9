// The store the ipc-state side serves: actions that do what the Redis commands of the other side
// do, so each row compares the same work.
import { defineStore } from '@ipc-state/protocol'
import { type BenchState, type Item, initialBenchState } from './bench-state.js'

/** Makes the bench's store with `initialState` (its actions never change). */
export function createBenchStore(initialState: BenchState = initialBenchState()) {
  return defineStore({
    initialState,
    actions: {
      /** Redis: `INCR counter`. */
      increment(state, by: number = 1) {
        state.counter += by
        return state.counter
      },
      /** Returns its input and changes nothing. Redis: `ECHO value`. */
      echo(_state, value: string) {
        return value
      },
      /** Redis: `GET counter` (the replica-read row reads the replica instead). */
      get(state) {
        return state.counter
      },
      /** Sets `message`, which every replica then receives. Redis: `PUBLISH channel message`. */
      publish(state, message: string) {
        state.message = message
      },
      /** A capped list: adds one item at the end and removes the first. Redis: `RPUSH` then `LPOP` in `MULTI`. */
      pushShift(state, item: Item) {
        state.list.push(item)
        state.list.shift()
      },
      /** Appends `count` strings of `bytes` characters to `blobs`, to grow the state in few calls. */
      fill(state, input: { count: number; bytes: number }) {
        const base = state.blobs.length
        for (let i = 0; i < input.count; i++) state.blobs.push(`${base + i}:`.padEnd(input.bytes, 'x'))
        return state.blobs.length
      },
    },
  })
}

/** The type clients connect with. */
export type BenchStore = ReturnType<typeof createBenchStore>

/** The state and its items, for modules that take their types from the store. */
export type { BenchState, Item } from './bench-state.js'
