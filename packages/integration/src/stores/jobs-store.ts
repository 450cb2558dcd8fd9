// A store of jobs that workers claim and finish, a lock with a fencing token, and the clients present: what processes coordinate with.
import { defineStore, type LeaveReason } from '@ipc-state/protocol'

export interface Job {
  id: number
  status: 'pending' | 'running' | 'done'
  /** The instance that holds it while it runs. */
  holder: string | null
  /** How many times it was finished: exactly once, or something went wrong. */
  finishes: number
}

export interface JobsState {
  jobs: Job[]
  /** The lock: its holder and the fencing token of the last grant, which only grows. */
  lock: { holder: string | null; token: number }
  /** The client instances present, by `onClientJoin` and `onClientLeave`. */
  clients: { instanceId: string; clientId: string; since: number }[]
  /** Every leave, in order. */
  left: { instanceId: string; reason: LeaveReason; at: number }[]
}

export const jobsStore = defineStore({
  initialState: { jobs: [], lock: { holder: null, token: 0 }, clients: [], left: [] } as JobsState,
  actions: {
    enqueue(state, count: number) {
      for (let i = 0; i < count; i++) state.jobs.push({ id: state.jobs.length + 1, status: 'pending', holder: null, finishes: 0 })
    },
    /** Takes the next pending job for the calling instance: its id, or null when none is pending. */
    claim(state, _input: undefined, context) {
      const job = state.jobs.find((each) => each.status === 'pending')
      if (job === undefined) return null
      job.status = 'running'
      job.holder = context.instanceId
      return job.id
    },
    finish(state, id: number, context) {
      const job = state.jobs[id - 1]
      if (job?.status !== 'running' || job.holder !== context.instanceId) throw new Error(`job ${id} is not held by this worker`)
      job.status = 'done'
      job.holder = null
      job.finishes += 1
    },
    /** Takes the lock for the calling instance: the new fencing token, or null while another holds it. */
    acquire(state, _input: undefined, context) {
      if (state.lock.holder !== null) return null
      state.lock.holder = context.instanceId
      state.lock.token += 1
      return state.lock.token
    },
    release(state, token: number, context) {
      if (state.lock.holder === context.instanceId && state.lock.token === token) state.lock.holder = null
    },
  },
  onClientJoin(state, { clientId, instanceId }, context) {
    state.clients.push({ instanceId, clientId, since: context.now })
  },
  onClientLeave(state, { instanceId, reason }, context) {
    state.clients = state.clients.filter((client) => client.instanceId !== instanceId)
    state.left.push({ instanceId, reason, at: context.now })
    for (const job of state.jobs) {
      if (job.status === 'running' && job.holder === instanceId) {
        job.status = 'pending'
        job.holder = null
      }
    }
    if (state.lock.holder === instanceId) state.lock.holder = null
  },
})

export type JobsStore = typeof jobsStore
