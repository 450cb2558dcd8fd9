import { defineStore } from '@ipc-state/protocol'

/** Two keys from the caller and the value to write there: what an ordinary "set a field" action takes. */
export interface PathInput {
  key: string
  sub: string
  value: unknown
}

export interface PathsState {
  counter: number
  items: Record<string, Record<string, unknown>>
  list: unknown[]
}

/**
 * A store whose actions index the state with keys and indexes the caller chooses, as ordinary
 * actions do: the server must stay whole whatever a caller puts there.
 */
export const pathsStore = defineStore({
  initialState: { counter: 0, items: { a: { x: 1 } }, list: [1, 2, 3] } as PathsState,
  actions: {
    increment(state, by: number = 1) {
      state.counter += by
      return state.counter
    },
    /** `state.items[key][sub] = value`. */
    setItem(state, { key, sub, value }: PathInput) {
      state.items[key]![sub] = value
    },
    /** `state.list[key][sub] = value`. */
    setListItem(state, { key, sub, value }: PathInput) {
      ;(state.list as unknown as Record<string, Record<string, unknown>>)[key]![sub] = value
    },
    /** `state.items.fresh = {}`, then `state.items.fresh[key][sub] = value`: an object the action made itself. */
    setInFresh(state, { key, sub, value }: PathInput) {
      const fresh: Record<string, Record<string, unknown>> = {}
      state.items.fresh = fresh
      fresh[key]![sub] = value
    },
    /** `state.list[index] = value`. */
    setAt(state, { index, value }: { index: number; value: unknown }) {
      state.list[index] = value
    },
  },
})

export type PathsStore = typeof pathsStore
