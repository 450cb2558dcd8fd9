// The process that holds the election: run it first, then any number of candidates.
import { closeOnSignals, createServer } from '@ipc-state/server'
import { electionStore } from './store.js'

// A leader whose connection is lost is replaced after half a second, unless it comes back.
const server = await createServer({
  store: electionStore,
  id: 'election',
  socketRoot: process.env.IPC_STATE_SOCKET_ROOT,
  leaveGrace: 500,
})
console.log(`listening at ${server.path}`)
closeOnSignals(server)
