// Who is online, kept by the server as processes join and leave: shared by the server and the members.
import type { LeaveReason } from '@ipc-state/protocol'
import { defineStore } from '@ipc-state/server'

export interface Member {
  /** The name a process connected with (its `clientId`). */
  name: string
  /** Its process (`instanceId`): two processes may share a name. */
  instanceId: string
  /** When it joined, by the server's clock. */
  since: number
}

/** The last departures kept. */
const KEEP = 100

export const presenceStore = defineStore({
  // Arrays, not objects keyed by a name a client chose: a name such as `__proto__` stays a plain value.
  initialState: { online: [] as Member[], departures: [] as { name: string; reason: LeaveReason; at: number }[] },
  actions: {},
  // Runs at each process's first hello: presence takes no call of its own.
  onClientJoin(state, { clientId, instanceId }, context) {
    state.online.push({ name: clientId, instanceId, since: context.now })
  },
  // Runs once per process when it is gone for good: closed, or lost for the server's leaveGrace.
  onClientLeave(state, { clientId, instanceId, reason }, context) {
    state.online = state.online.filter((member) => member.instanceId !== instanceId)
    state.departures.push({ name: clientId, reason, at: context.now })
    if (state.departures.length > KEEP) state.departures.shift()
  },
})
