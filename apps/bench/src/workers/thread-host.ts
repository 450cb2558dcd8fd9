// A process whose main thread runs an ipc-state server and whose worker thread (thread-client.ts)
// runs a client of it, over a message port or over the Unix socket, so the two transports are
// measured between the same two threads. Requests: `calls` (a CallsWorkload), run by the thread,
// which reports a CallsResult. Closes the thread, then the server, when its stdin closes.
import { once } from 'node:events'
import { MessageChannel, Worker } from 'node:worker_threads'
import { createServer, messagePortTransport } from '@ipc-state/server'
import { initialBenchState } from '../stores/bench-state.js'
import { createBenchStore } from '../stores/bench-store.js'
import type { ThreadHostConfig } from './configs.js'
import type { ThreadMessage } from './thread-client.js'
import { emit, serveRequests, workerConfig } from './worker-io.js'

const config = workerConfig<ThreadHostConfig>()
const store = createBenchStore(initialBenchState())
const ports = messagePortTransport({ name: 'bench ports' })
const server = await createServer({ store, ...(config.transport === 'message-port' ? { transport: ports } : config.address) })

// From the sources the thread runs through tsx, as the harness runs this process.
const source = import.meta.url.endsWith('.ts')
const thread = new Worker(new URL(`./thread-client.${source ? 'ts' : 'js'}`, import.meta.url), {
  workerData: config,
  execArgv: source ? ['--import', 'tsx'] : [],
})
// A thread that fails ends the process, which the harness reports with the thread's error.
thread.on('error', (error) => {
  console.error(error)
  process.exit(1)
})
const pending = new Map<number, (message: ThreadMessage) => void>()
let nextTag = 1
const threadReady = new Promise<void>((resolve) => {
  thread.on('message', (message: ThreadMessage) => {
    if (message.kind === 'port') {
      // Each connection attempt gets a fresh channel, as a parent thread serving ports does.
      const { port1, port2 } = new MessageChannel()
      ports.accept(port1)
      thread.postMessage({ kind: 'port', port: port2 }, [port2])
    } else if (message.kind === 'ready') resolve()
    else if (message.kind === 'result') {
      pending.get(message.tag)?.(message)
      pending.delete(message.tag)
    }
  })
})
await threadReady

serveRequests(
  async (request) => {
    if (request.cmd !== 'calls') throw new Error(`unknown request ${request.cmd}`)
    const tag = nextTag++
    const answer = new Promise<ThreadMessage>((resolve) => pending.set(tag, resolve))
    thread.postMessage({ kind: 'calls', tag, workload: request })
    const message = await answer
    if (message.kind !== 'result' || message.error !== undefined)
      throw new Error(message.kind === 'result' ? message.error : 'no result')
    return message.result
  },
  async () => {
    const exited = once(thread, 'exit')
    thread.postMessage({ kind: 'close' })
    await exited
    await server.close()
  },
)
emit('ready', { path: server.path })
