// A lease on one resource, with a fencing token that only grows: shared by the server and the processes that take it.
import { defineStore } from '@ipc-state/server'

export interface Lease {
  /** The process (`context.instanceId`) holding it, or null when it is free. */
  holder: string | null
  /** The token of the last grant: every grant gets a larger one, so a resource can refuse an older holder. */
  token: number
  /** When the lease runs out, by the server's clock, unless its holder renews it. */
  expiresAt: number
}

export const mutexStore = defineStore({
  initialState: { lease: { holder: null, token: 0, expiresAt: 0 } as Lease },
  actions: {
    /** Takes the lease for `ttl` ms: the new fencing token, or null while another process holds it. */
    acquire(state, ttl: number, context) {
      if (state.lease.holder !== null) return null
      state.lease = { holder: context.instanceId, token: state.lease.token + 1, expiresAt: context.now + ttl }
      return state.lease.token
    },
    /** Extends the lease of the holder of `token` by `ttl` ms: false when it is not (or no longer) the holder. */
    renew(state, { token, ttl }: { token: number; ttl: number }, context) {
      if (state.lease.holder !== context.instanceId || state.lease.token !== token) return false
      state.lease.expiresAt = context.now + ttl
      return true
    },
    /** Gives the lease back: false when `token` was no longer the holder's (it expired meanwhile). */
    release(state, token: number, context) {
      if (state.lease.holder !== context.instanceId || state.lease.token !== token) return false
      state.lease.holder = null
      return true
    },
    /** Frees a lease whose holder is alive but hung (it stopped renewing): the server calls it on a timer. */
    expire(state, _input: undefined, context) {
      if (state.lease.holder === null || context.now < state.lease.expiresAt) return false
      state.lease.holder = null
      return true
    },
  },
  // The holder's process is gone (it closed, or died and did not come back within leaveGrace).
  onClientLeave(state, { instanceId }) {
    if (state.lease.holder === instanceId) state.lease.holder = null
  },
})
