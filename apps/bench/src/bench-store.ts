// The store the ipc-state side serves: actions that do what the Redis commands of the other side
// do, so each row compares the same work.
import { defineStore } from '@ipc-state/protocol'

/** One item of a list in the bench's state, shaped like a chat message. */
export interface Item {
  id: number
  text: string
  from: string
  at: number
}

/** The bench's state. */
export interface BenchState {
  /** What `increment` counts (Redis: `INCR counter`). */
  counter: number
  /** What `publish` last set (Redis: `PUBLISH`). */
  message: string
  /** A list: 10,000 items for the capped-list row, the 1 MB of the snapshot row. */
  list: Item[]
  /** Filled by `fill` for the start-up rows. */
  blobs: string[]
}

/** Makes the state a server starts with: `listItems` items in `list`, the rest empty. */
export function initialBenchState(listItems = 0): BenchState {
  return { counter: 0, message: '', list: makeItems(listItems), blobs: [] }
}

/** `count` items of about 100 bytes of JSON each, numbered from `first`. */
export function makeItems(count: number, first = 1): Item[] {
  return Array.from({ length: count }, (_, i) => makeItem(first + i))
}

/** One item of about 100 bytes of JSON. */
export function makeItem(id: number): Item {
  return {
    id,
    text: `message number ${id} lorem ipsum dolor sit`.slice(0, 40),
    from: `client-${id % 50}`,
    at: 1_700_000_000_000 + id,
  }
}

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
