// The process that owns the counter: run it first, then any number of clients.
import { closeOnSignals, createServer } from '@ipc-state/server'
import { counterStore } from './store.js'

// `socketRoot` undefined is the library's default folder; the tests give each run its own.
const server = await createServer({ store: counterStore, id: 'counter', socketRoot: process.env.IPC_STATE_SOCKET_ROOT })
console.log(`listening at ${server.path}`)
closeOnSignals(server)
