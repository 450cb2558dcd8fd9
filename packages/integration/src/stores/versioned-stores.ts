// A small store in two versions of its shape, served by fixtures/servers/versioned-server.ts.
import { defineStore } from '@ipc-state/protocol'

export interface StateV1 {
  counter: number
  names: string[]
}

export interface StateV2 {
  total: number
  people: { name: string }[]
  migratedFrom: number | null
}

/** Version 1: a counter and a list of names. */
export const storeV1 = defineStore({
  version: 1,
  initialState: { counter: 0, names: [] } as StateV1,
  actions: {
    increment(state, by: number = 1) {
      state.counter += by
      return state.counter
    },
    addName(state, name: string) {
      state.names.push(name)
      return state.names.length
    },
  },
})

/** Version 2: the same data under new names, and where it was migrated from. */
export const storeV2 = defineStore({
  version: 2,
  initialState: { total: 0, people: [], migratedFrom: null } as StateV2,
  actions: {
    increment(state, by: number = 1) {
      state.total += by
      return state.total
    },
    addPerson(state, name: string) {
      state.people.push({ name })
      return state.people.length
    },
  },
  migrate(state, fromVersion) {
    if (fromVersion !== 1) throw new Error(`cannot migrate from version ${fromVersion}`)
    const old = state as StateV1
    return { total: old.counter, people: old.names.map((name) => ({ name })), migratedFrom: fromVersion }
  },
})
