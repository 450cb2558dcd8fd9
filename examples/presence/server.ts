// The process that keeps the presence list: run it first, then members and a watcher.
import { closeOnSignals, createServer } from '@ipc-state/server'
import { presenceStore } from './store.js'

const server = await createServer({
  store: presenceStore,
  id: 'presence',
  socketRoot: process.env.IPC_STATE_SOCKET_ROOT,
  leaveGrace: 1_000,
})
console.log(`listening at ${server.path}`)
closeOnSignals(server)
