// The total the worker threads add to: its state and the one action that changes it, shared by the main thread and the workers.
import { defineStore } from '@ipc-state/server'

export const totalStore = defineStore({
  initialState: { total: 0 },
  actions: {
    add(state, by: number) {
      state.total += by
      return state.total
    },
  },
})
