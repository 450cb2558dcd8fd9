// The store of the frame-cost fixture: it keeps whatever `keep` is called with, so that a hostile
// value that got through would stay in the state; `increment` is another client's ordinary call.
import { defineStore } from '@ipc-state/protocol'

export const costStore = defineStore({
  initialState: { counter: 0, kept: null as unknown },
  actions: {
    keep(state, value: unknown) {
      state.kept = value
      return true
    },
    increment(state) {
      state.counter += 1
      return state.counter
    },
  },
})
