// The worker thread of thread-host.ts: an ipc-state client (with its replica) of the server in
// the main thread, over a message port it asks the main thread for, or over the Unix socket.
// Runs each `calls` workload it is sent and posts its result; closes its client and ends on `close`.
import { type MessagePort, parentPort, workerData } from 'node:worker_threads'
import { connect, messagePortTransport } from '@ipc-state/client'
import { makeItem } from '../stores/bench-state.js'
import type { BenchStore } from '../stores/bench-store.js'
import type { ThreadHostConfig } from './configs.js'
import { binaryFrames, ipcStateDriver } from './drivers/ipc-state.js'
import { type CallsResult, type CallsWorkload, runCalls } from './workloads.js'

/** What the thread and the main thread post to each other. */
export type ThreadMessage =
  | { kind: 'port'; port?: MessagePort }
  | { kind: 'ready' }
  | { kind: 'calls'; tag: number; workload: CallsWorkload }
  | { kind: 'result'; tag: number; result?: CallsResult; error?: string }
  | { kind: 'close' }

const parent = parentPort!
const config = workerData as ThreadHostConfig

/** The port the main thread sends next, for the connection attempt waiting for it. */
let givePort: ((port: MessagePort) => void) | undefined
const openPort = () =>
  new Promise<MessagePort>((resolve) => {
    givePort = resolve
    parent.postMessage({ kind: 'port' } satisfies ThreadMessage)
  })

let driver: ReturnType<typeof ipcStateDriver> | undefined
let nextItem = 1_000_000_000
parent.on('message', (message: ThreadMessage) => {
  if (message.kind === 'port') {
    givePort?.(message.port!)
    givePort = undefined
  } else if (message.kind === 'calls') {
    runCalls(driver!, message.workload, () => makeItem(nextItem++)).then(
      (result) => parent.postMessage({ kind: 'result', tag: message.tag, result } satisfies ThreadMessage),
      (error: unknown) =>
        parent.postMessage({
          kind: 'result',
          tag: message.tag,
          error: error instanceof Error ? error.stack : String(error),
        } satisfies ThreadMessage),
    )
  } else if (message.kind === 'close') {
    // In a worker thread, process.exit ends the thread alone.
    void Promise.resolve(driver?.close()).finally(() => process.exit(0))
  }
})

const { socketRoot, appspace, id } = config.address
const client = await connect<BenchStore>(
  config.transport === 'message-port'
    ? { transport: messagePortTransport({ openPort, name: 'bench ports' }), binaryFrames }
    : { socketRoot, appspace, id, binaryFrames },
)
driver = ipcStateDriver(client)
parent.postMessage({ kind: 'ready' } satisfies ThreadMessage)
