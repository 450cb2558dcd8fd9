// A worker thread: its client reaches the server in the main thread over a message port, adds to the total, then closes.
import { type MessagePort, parentPort, workerData } from 'node:worker_threads'
import { connect, messagePortTransport } from '@ipc-state/client'
import type { totalStore } from './store.js'

const { by, times } = workerData as { by: number; times: number }
const parent = parentPort!

const client = await connect<typeof totalStore>({
  transport: messagePortTransport({
    // A port serves one connection attempt: ask the main thread for a new one on each (the first,
    // and one after each connection lost); it answers with the other end of a new channel.
    openPort: () =>
      new Promise<MessagePort>((resolve) => {
        parent.once('message', (message: { port: MessagePort }) => resolve(message.port))
        parent.postMessage('port')
      }),
  }),
})
// Eight calls in flight at once, as a busy thread would have them: each is applied once, in turn.
let left = times
await Promise.all(
  Array.from({ length: Math.min(8, times) }, async () => {
    while (left > 0) {
      left -= 1
      await client.actions.add(by)
    }
  }),
)
// Closing says goodbye: the server drops this connection at once.
await client.close()
