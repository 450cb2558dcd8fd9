// The bench's state and the items in it, apart from the store, so that the processes of the
// other sides (which have the same state) do not load ipc-state to make it.

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
