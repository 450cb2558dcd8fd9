// An ipc-state server of the bench's store. Reports `ready` with how long `createServer` took
// (`startMs`: from a data folder, that is the time to load it), and, on a WebSocket, its `url` and
// `token`; answers `version`; closes the server when the harness closes its stdin.
import { createServer } from '@ipc-state/server'
import { initialBenchState } from '../stores/bench-state.js'
import { createBenchStore } from '../stores/bench-store.js'
import type { IpcStateServerConfig } from './configs.js'
import { storageOption } from './storage-option.js'
import { emit, serveRequests, workerConfig } from './worker-io.js'

const config = workerConfig<IpcStateServerConfig>()
const store = createBenchStore(initialBenchState(config.listItems))
// Loaded only for the WebSocket row, so the other rows' servers load what they did before.
const listener = config.websocket === true ? await (await import('@ipc-state/server/websocket')).listenWebSocket() : undefined
const address = listener === undefined ? config.address : { transport: listener }
const begin = performance.now()
const server = await createServer({ store, ...address, ...(await storageOption(config.storage, config.sharedStore)) })
const startMs = performance.now() - begin
serveRequests(
  (request) => {
    if (request.cmd === 'version') return server.version
    throw new Error(`unknown request ${request.cmd}`)
  },
  () => server.close(),
)
emit('ready', {
  startMs,
  version: server.version,
  path: server.path,
  ...(listener && { url: listener.url, token: listener.token }),
})
