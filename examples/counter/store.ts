// The counter's store: its state and the one action that changes it, shared by server and clients.
import { defineStore } from '@ipc-state/server'

export const counterStore = defineStore({
  initialState: { counter: 0 },
  actions: {
    increment(state, by: number = 1) {
      state.counter += by
      return state.counter
    },
  },
})
