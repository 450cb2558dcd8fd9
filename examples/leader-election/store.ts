// One leader among processes, elected again when it dies: shared by the server and the candidates.
import { defineStore } from '@ipc-state/server'

export interface Leader {
  /** The leader's process (`context.instanceId`). */
  instanceId: string
  /** Its name, as its process gave it. */
  name: string
}

export const electionStore = defineStore({
  initialState: { leader: null as Leader | null, term: 0 },
  actions: {
    /** Becomes the leader if there is none: the new term, or null when another process leads. */
    campaign(state, name: string, context) {
      if (state.leader !== null) return null
      state.leader = { instanceId: context.instanceId, name }
      state.term += 1
      return state.term
    },
    /** Steps down: false when the caller is not the leader. */
    resign(state, _input: undefined, context) {
      if (state.leader?.instanceId !== context.instanceId) return false
      state.leader = null
      return true
    },
  },
  // The leader's process is gone (closed, or lost for leaveGrace): there is none until the next campaign.
  onClientLeave(state, { instanceId }) {
    if (state.leader?.instanceId === instanceId) state.leader = null
  },
})
