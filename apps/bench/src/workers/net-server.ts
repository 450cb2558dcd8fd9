// A tiny newline-JSON server on a Unix socket: `{i, op, v}` in, `{i, v}` out; `subscribe` makes a
// connection receive `{m}` for every `publish`.
import { createServer, type Socket } from 'node:net'
import type { PlainServerConfig } from './configs.js'
import { readJsonLines, writeJsonLine } from './json-lines.js'
import { createPlainState, type PlainOp } from './plain-state.js'
import { emit, serveRequests, workerConfig } from './worker-io.js'

const config = workerConfig<PlainServerConfig>()
const apply = createPlainState(config.listItems)
const sockets = new Set<Socket>()
const subscribers = new Set<Socket>()
const server = createServer((socket) => {
  sockets.add(socket)
  socket.on('error', () => socket.destroy())
  socket.on('close', () => {
    sockets.delete(socket)
    subscribers.delete(socket)
  })
  readJsonLines(socket, (message: { i: number; op: PlainOp | 'subscribe'; v?: unknown }) => {
    if (message.op === 'subscribe') {
      subscribers.add(socket)
      writeJsonLine(socket, { i: message.i, v: null })
      return
    }
    const value = apply(message.op, message.v)
    if (message.op === 'publish') for (const subscriber of subscribers) writeJsonLine(subscriber, { m: message.v })
    writeJsonLine(socket, { i: message.i, v: value })
  })
})
server.listen(config.path, () => emit('ready'))
serveRequests(
  () => undefined,
  () => {
    for (const socket of sockets) socket.destroy()
    return new Promise((resolve) => server.close(resolve))
  },
)
