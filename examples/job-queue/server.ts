// The process that owns the queue: run it first, with the number of jobs to enqueue (default 10).
import { closeOnSignals, createServer } from '@ipc-state/server'
import { jobQueue } from './store.js'

const jobs = Number(process.argv[2] ?? 10)
// A worker whose connection is lost has one second to come back before its job is taken back.
const server = await createServer({
  store: jobQueue,
  id: 'job-queue',
  socketRoot: process.env.IPC_STATE_SOCKET_ROOT,
  leaveGrace: 1_000,
})
// The server process calls the store's actions itself, in the same order as the workers' calls.
await server.actions.enqueue(jobs)
console.log(`listening at ${server.path} with ${jobs} jobs`)
closeOnSignals(server)
