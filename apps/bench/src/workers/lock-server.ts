// An ipc-state server of the lock store, with the `leaveGrace` the harness gives; closes when its stdin closes.
import { createServer } from '@ipc-state/server'
import { lockStore } from '../stores/lock-store.js'
import type { LockServerConfig } from './configs.js'
import { emit, serveRequests, workerConfig } from './worker-io.js'

const config = workerConfig<LockServerConfig>()
const server = await createServer({ store: lockStore, ...config.address, leaveGrace: config.leaveGrace })
serveRequests(
  (request) => {
    throw new Error(`unknown request ${request.cmd}`)
  },
  () => server.close(),
)
emit('ready', { path: server.path })
