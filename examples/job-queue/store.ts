// A job queue whose claims go back to pending when their worker's process dies: shared by the server and the workers.
import { defineStore } from '@ipc-state/server'

export interface Job {
  id: number
  status: 'pending' | 'running' | 'done'
  /** The worker instance (`context.instanceId`) running it. */
  worker: string | null
}

export const jobQueue = defineStore({
  initialState: { jobs: [] as Job[] },
  actions: {
    enqueue(state, count: number) {
      for (let i = 0; i < count; i++) state.jobs.push({ id: state.jobs.length + 1, status: 'pending', worker: null })
    },
    /** Takes the next pending job for the calling process: its id, or null when none is pending. */
    claim(state, _input: undefined, context) {
      const job = state.jobs.find((each) => each.status === 'pending')
      if (job === undefined) return null
      job.status = 'running'
      job.worker = context.instanceId
      return job.id
    },
    finish(state, id: number, context) {
      const job = state.jobs.find((each) => each.id === id)
      if (job?.status !== 'running' || job.worker !== context.instanceId) throw new Error(`job ${id} is not yours`)
      job.status = 'done'
      job.worker = null
    },
  },
  // A worker that closed, or whose process died and did not come back within the server's
  // leaveGrace: whatever it was running goes back to pending, for another worker to claim.
  onClientLeave(state, { instanceId }) {
    for (const job of state.jobs) {
      if (job.status === 'running' && job.worker === instanceId) {
        job.status = 'pending'
        job.worker = null
      }
    }
  },
})
