// The background daemon: owns the to-do list, started by the command line when it is not running.
import { closeOnSignals, createServer } from '@ipc-state/server'
import { todoStore } from './store.js'

/** With no client connected for this long, the daemon stops by itself. */
const IDLE_MS = 10 * 60_000

// A second daemon started at the same moment fails here with ADDRESS_IN_USE and exits: one wins.
const server = await createServer({ store: todoStore, id: 'todo', socketRoot: process.env.IPC_STATE_SOCKET_ROOT })
await server.actions.daemonStarted(process.pid)
closeOnSignals(server)

let idleSince = Date.now()
setInterval(() => {
  if (server.connectionCount > 0) idleSince = Date.now()
  else if (Date.now() - idleSince > IDLE_MS) void server.close().then(() => process.exit(0))
}, 1_000).unref()
