// The seed's create_ipc.js: one server owning { counter, messages } at the seed's socket path.
// Prints "ready: listening at <path>" once clients can connect, and runs until SIGINT or SIGTERM,
// then closes (the socket file goes with it) and exits 0. A failed start prints why and exits 1.
// With IPC_STATE_DATA_DIR set, the state is kept in that folder and survives restarts and crashes.
// With IPC_STATE_REDIS_URL set, it is kept in Redis and shared with every server given the same URL
// and IPC_STATE_REDIS_KEY. IPC_STATE_LEAVE_GRACE sets how long a client process whose connection was
// lost may take to come back before it is taken off the list of clients connected. With
// IPC_STATE_WEB_PORT set (0 for a free port), it also serves a page on 127.0.0.1 that shows the live
// state, and prints "web: open <address>" with the token to open it with.
import { existsSync } from 'node:fs'
import type { StateOf } from '@ipc-state/protocol'
import { redisStorage } from '@ipc-state/redis'
import { createServer, fileStorage, type IpcStateServer, type Storage, unixSocketTransport } from '@ipc-state/server'
import { demoAddress, demoLeaveGrace, demoLogger, demoRedis, demoSocketPath, demoStorage, describeError } from './config.js'
import { onShutdown } from './on-shutdown.js'
import { demoStore, type DemoStore } from './store.js'
import { demoWebPort, listenForPages, type DemoWebPage } from './web-page.js'

let server: IpcStateServer<StateOf<DemoStore>> | undefined
let stopRequested: NodeJS.Signals | undefined
let web: DemoWebPage | undefined

async function shutdown(running: IpcStateServer<StateOf<DemoStore>>, signal: NodeJS.Signals): Promise<void> {
  console.log(`${signal}: closing at version ${running.version}`)
  try {
    await running.close()
  } catch (error) {
    console.error(`error: the server did not close cleanly: ${describeError(error)}`)
    process.exit(1)
  }
  if (existsSync(running.path)) {
    console.error(`error: closed, but the socket file ${running.path} is still there`)
    process.exit(1)
  }
  console.log(`closed: ${running.path} removed`)
  // Now, not once the event loop drains: Node tears its signal handlers down on the way out, and
  // the SIGINT that pnpm or turbo passes on after a Ctrl-C would then kill the process by signal.
  process.exit(0)
}

// Installed before the server starts: a signal that arrives while it starts must not kill the
// process between creating the socket file and removing it.
onShutdown((signal) => {
  if (server === undefined) stopRequested = signal
  else return shutdown(server, signal)
})

try {
  const shared = demoRedis()
  const persist = demoStorage()
  let storage: Storage | undefined
  if (shared !== undefined) storage = redisStorage(shared)
  else if (persist !== undefined) storage = fileStorage(persist)
  const leaveGrace = demoLeaveGrace()
  const webPort = demoWebPort()
  if (webPort !== undefined) web = await listenForPages(webPort)
  server = await createServer({
    store: demoStore,
    // The socket first: the server's path stays the socket's.
    ...(web === undefined ? demoAddress() : { transport: [unixSocketTransport(demoAddress()), web.listener] }),
    logger: demoLogger(),
    ...(storage === undefined ? {} : { storage }),
    ...(leaveGrace === undefined ? {} : { leaveGrace }),
  })
} catch (error) {
  let where = ''
  try {
    where = ` at ${demoSocketPath()}`
  } catch {
    // the error itself says why there is no path
  }
  console.error(`error: the server could not start${where}: ${describeError(error)}`)
  process.exit(1)
}

if (stopRequested === undefined) {
  const kept = demoStorage()
  const shared = demoRedis()
  let where = 'in memory'
  if (shared !== undefined) where = `in Redis (key ${shared.key}), shared, at version ${server.version}`
  else if (kept !== undefined) where = `in ${kept.dir} (fsync ${kept.fsync}), at version ${server.version}`
  if (web !== undefined) console.log(`web: open ${web.address}`)
  console.log(`ready: listening at ${server.path} (epoch ${server.epoch}); state kept ${where}`)
} else await shutdown(server, stopRequested)
