// A raw node-ipc 12 server exchanging events: each operation is an event `{i, v}` answered with a
// `reply` event `{i, v}`; `subscribe` makes a socket receive a `message` event for every `publish`.
import type { Socket } from 'node:net'
import { IPCModule } from 'node-ipc'
import type { PlainServerConfig } from './configs.js'
import { createPlainState, type PlainOp } from './plain-state.js'
import { emit, serveRequests, workerConfig } from './worker-io.js'

const OPS: readonly PlainOp[] = ['incr', 'echo', 'get', 'publish', 'pushShift', 'snapshot']

const config = workerConfig<PlainServerConfig>()
const apply = createPlainState(config.listItems)
const subscribers = new Set<Socket>()
const ipc = new IPCModule()
ipc.config.silent = true
ipc.serve(config.path, () => {
  ipc.server.on('socket.disconnected', (socket) => subscribers.delete(socket))
  ipc.server.on('subscribe', (data: { i: number }, socket) => {
    subscribers.add(socket)
    ipc.server.emit(socket, 'reply', { i: data.i, v: null })
  })
  for (const op of OPS) {
    ipc.server.on(op, (data: { i: number; v?: unknown }, socket) => {
      const value = apply(op, data.v)
      if (op === 'publish') for (const subscriber of subscribers) ipc.server.emit(subscriber, 'message', data.v)
      ipc.server.emit(socket, 'reply', { i: data.i, v: value })
    })
  }
  emit('ready')
})
ipc.server.start()
serveRequests(
  () => undefined,
  () => ipc.server.stop(),
)
