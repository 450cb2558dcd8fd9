// The main thread owns the total and serves it to worker threads over message ports; it prints the total once every worker has ended.
import { MessageChannel, Worker } from 'node:worker_threads'
import { createServer, messagePortTransport } from '@ipc-state/server'
import { totalStore } from './store.js'

const workers = Number(process.argv[2] ?? 4)
const times = Number(process.argv[3] ?? 100)

// No socket: the threads of this process are the only clients.
const ports = messagePortTransport({ name: 'worker threads' })
await using server = await createServer({ store: totalStore, transport: ports })

/**
 * Starts worker.ts in a thread. Node 20's worker threads do not take the main thread's TypeScript
 * loader (`--import tsx`), so the thread imports it through tsx's API; from compiled JavaScript,
 * `new Worker(new URL('./worker.js', import.meta.url), { workerData })` is all it takes.
 */
function startWorker(workerData: { by: number; times: number }): Worker {
  const script = new URL('./worker.ts', import.meta.url).href
  const tsx = import.meta.resolve('tsx/esm/api')
  const code = `import(${JSON.stringify(tsx)}).then(({ tsImport }) => tsImport(${JSON.stringify(script)}, ${JSON.stringify(script)}))`
  return new Worker(code, { eval: true, workerData })
}

const ended = Array.from({ length: workers }, (_, index) => {
  // Worker n adds n each time: the total tells whether any call was lost or applied twice.
  const worker = startWorker({ by: index + 1, times })
  worker.on('message', (message: unknown) => {
    if (message !== 'port') return
    const { port1, port2 } = new MessageChannel()
    ports.accept(port1)
    worker.postMessage({ port: port2 }, [port2])
  })
  return new Promise<void>((resolve, reject) => {
    worker.once('error', reject)
    worker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker ${index + 1} exited with code ${code}`))))
  })
})
await Promise.all(ended)
console.log(`${workers} workers, ${times} calls each: total ${server.state.total}`)
