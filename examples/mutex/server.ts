// The process that owns the lease: frees it when its holder dies, and when its holder hangs.
import { closeOnSignals, createServer } from '@ipc-state/server'
import { mutexStore } from './store.js'

const server = await createServer({
  store: mutexStore,
  id: 'mutex',
  socketRoot: process.env.IPC_STATE_SOCKET_ROOT,
  leaveGrace: 1_000,
})
// A holder that is still connected but stopped renewing is no loss of connection: the server's own
// timer calls `expire`, in the same total order as the holders' calls.
const expiry = setInterval(() => {
  void server.actions.expire().then((expired) => {
    if (expired) console.log(`lease ${server.state.lease.token} expired: its holder stopped renewing`)
  })
}, 100)
console.log(`listening at ${server.path}`)
closeOnSignals({
  close: () => {
    clearInterval(expiry)
    return server.close()
  },
})
