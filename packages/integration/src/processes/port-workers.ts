// Worker threads whose clients reach a server in this thread over message ports (fixtures/port-worker.ts): start one, answer its port requests, read what it reports.
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads'
import type { MessagePortTransport } from '@ipc-state/server'
import { inject } from 'vitest'
import { fixture } from './processes.js'
import { plainFixturePath } from './plain-fixtures.js'

/** What port-worker.ts takes as its workerData. */
export interface PortWorkerData {
  action: 'increment' | 'addMessage'
  calls: number
  concurrency: number
  tag: string
}

/** A message a port worker posts to its parent. */
export type PortWorkerMessage = { kind: string } & Record<string, unknown>

/** A running port worker. Disposing it terminates it. */
export interface PortWorker extends AsyncDisposable {
  readonly worker: Worker
  /** Every message it posted, port requests aside. */
  readonly messages: PortWorkerMessage[]
  /** How many ports it was given: one per connection attempt. */
  readonly portsGiven: number
  /** Resolves with the first message (already posted or to come) that `match` accepts; rejects if the thread ends first. */
  waitFor(match: string | ((message: PortWorkerMessage) => boolean)): Promise<PortWorkerMessage>
  /** Closes the server's end of the port the worker uses now, as a server thread that went away would. */
  dropPort(): void
  /** Asks the worker for its replica once its counter is `counter`. */
  report(counter: number): Promise<PortWorkerMessage>
}

/** The worker script as the run transpiled it, or the TypeScript through the tsx loader. */
function workerScript(): { path: string; execArgv: string[] } {
  const root = inject('plainFixtures')
  if (root !== undefined) return { path: plainFixturePath(root, 'port-worker.ts'), execArgv: [] }
  return { path: fixture('port-worker.ts'), execArgv: ['--import', 'tsx'] }
}

/** Starts fixtures/port-worker.ts in a worker thread; each port it asks for is a new channel whose other end `ports` serves. */
export function startPortWorker(ports: MessagePortTransport, data: PortWorkerData): PortWorker {
  const { path, execArgv } = workerScript()
  const worker = new Worker(path, { workerData: data, execArgv })
  const messages: PortWorkerMessage[] = []
  const waiters = new Set<() => void>()
  let ended: Error | undefined
  let current: MessagePort | undefined
  let portsGiven = 0
  worker.on('message', (message: PortWorkerMessage) => {
    if (message.kind === 'port') {
      const { port1, port2 } = new MessageChannel()
      current = port1
      portsGiven += 1
      ports.accept(port1)
      worker.postMessage({ kind: 'port', port: port2 }, [port2])
      return
    }
    messages.push(message)
    for (const waiter of waiters) waiter()
  })
  const end = (error: Error) => {
    ended ??= error
    for (const waiter of waiters) waiter()
  }
  worker.on('error', (error) => end(error))
  worker.on('exit', (code) => end(new Error(`the port worker exited with code ${code}`)))

  const waitFor = (match: string | ((message: PortWorkerMessage) => boolean)) => {
    const accepts = typeof match === 'string' ? (message: PortWorkerMessage) => message.kind === match : match
    return new Promise<PortWorkerMessage>((resolve, reject) => {
      const check = () => {
        const found = messages.find(accepts)
        if (found !== undefined) resolve(found)
        else if (ended !== undefined) reject(new Error(`${ended.message}; its messages: ${JSON.stringify(messages)}`))
        else return
        waiters.delete(check)
      }
      waiters.add(check)
      check()
    })
  }
  return {
    worker,
    messages,
    get portsGiven() {
      return portsGiven
    },
    waitFor,
    dropPort() {
      current?.close()
    },
    report(counter) {
      const after = messages.length
      worker.postMessage({ kind: 'report', counter })
      return waitFor((message) => message.kind === 'report' && messages.indexOf(message) >= after)
    },
    async [Symbol.asyncDispose]() {
      await worker.terminate()
    },
  }
}
