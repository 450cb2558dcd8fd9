// A worker: claims jobs one at a time and finishes them until every job is done. Each job takes
// the given milliseconds of work (default 10): give a long one to kill the worker while it holds it.
import { connect } from '@ipc-state/client'
import type { jobQueue } from './store.js'

const workMs = Number(process.argv[2] ?? 10)
await using client = await connect<typeof jobQueue>({ id: 'job-queue', socketRoot: process.env.IPC_STATE_SOCKET_ROOT })
const allDone = (jobs: readonly { status: string }[]) => jobs.every((job) => job.status === 'done')
for (;;) {
  const id = await client.actions.claim()
  if (id === null) {
    // Nothing pending: wait, with no polling, until a job is pending again (one taken back from a
    // dead worker, or a new one) or every job is done.
    const state = await client.waitFor((s) => allDone(s.jobs) || s.jobs.some((job) => job.status === 'pending'))
    if (allDone(state.jobs)) break
    continue
  }
  console.log(`claimed job ${id}`)
  // The job's own work, here only time passing.
  await new Promise((resolve) => setTimeout(resolve, workMs))
  await client.actions.finish(id)
  console.log(`finished job ${id}`)
}
console.log(`all ${client.state.jobs.length} jobs done`)
