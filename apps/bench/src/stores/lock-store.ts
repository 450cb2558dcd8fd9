// The lock the takeover row passes from a dead holder to a waiter: what Redis's `SET key value NX PX` does, tied to the holder's process.
import { defineStore } from '@ipc-state/protocol'

/** The lock: the instance that holds it, and a fencing token that only grows. */
export interface LockState {
  holder: string | null
  token: number
}

export const lockStore = defineStore({
  initialState: { holder: null, token: 0 } as LockState,
  actions: {
    /** Takes the lock for the calling instance: the new token, or null while another holds it. Redis: `SET lock id NX`. */
    acquire(state, _input: undefined, context) {
      if (state.holder !== null) return null
      state.holder = context.instanceId
      state.token += 1
      return state.token
    },
  },
  /** The holder's process is gone (closed, or lost for `leaveGrace`): the lock is free. Redis: the key expires. */
  onClientLeave(state, { instanceId }) {
    if (state.holder === instanceId) state.holder = null
  },
})

export type LockStore = typeof lockStore
