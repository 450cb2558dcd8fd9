// Worker threads that reach a server in this thread over message ports: clients (fixtures/clients/port-worker.ts) whose port requests it answers, and hostile peers (fixtures/hostile/hostile-port-peer.ts).
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
  /** Asks the worker for its replica once its counter is `counter` (and its version at least `version`). */
  report(counter: number, version?: number): Promise<PortWorkerMessage>
}

/** Fixture `name`'s worker script as the run transpiled it, or the TypeScript through the tsx loader. */
function workerScript(name: string): { path: string; execArgv: string[] } {
  const root = inject('plainFixtures')
  if (root !== undefined) return { path: plainFixturePath(root, name), execArgv: [] }
  return { path: fixture(name), execArgv: ['--import', 'tsx'] }
}

/** A worker thread's messages to this one, kept, and a way to wait for one. */
interface WorkerMessages {
  readonly messages: PortWorkerMessage[]
  waitFor(match: string | ((message: PortWorkerMessage) => boolean)): Promise<PortWorkerMessage>
}

/** Keeps what `worker` posts (but what `intercept` takes) and rejects waits once it has ended. */
function watchWorker(worker: Worker, intercept: (message: PortWorkerMessage) => boolean = () => false): WorkerMessages {
  const messages: PortWorkerMessage[] = []
  const waiters = new Set<() => void>()
  let ended: Error | undefined
  worker.on('message', (message: PortWorkerMessage) => {
    if (intercept(message)) return
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
  return { messages, waitFor }
}

/** Starts fixtures/clients/port-worker.ts in a worker thread; each port it asks for is a new channel whose other end `ports` serves. */
export function startPortWorker(ports: MessagePortTransport, data: PortWorkerData): PortWorker {
  const { path, execArgv } = workerScript('clients/port-worker.ts')
  const worker = new Worker(path, { workerData: data, execArgv })
  let current: MessagePort | undefined
  let portsGiven = 0
  const { messages, waitFor } = watchWorker(worker, (message) => {
    if (message.kind !== 'port') return false
    const { port1, port2 } = new MessageChannel()
    current = port1
    portsGiven += 1
    ports.accept(port1)
    worker.postMessage({ kind: 'port', port: port2 }, [port2])
    return true
  })
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
    report(counter, version) {
      const after = messages.length
      worker.postMessage({ kind: 'report', counter, version })
      return waitFor((message) => message.kind === 'report' && messages.indexOf(message) >= after)
    },
    async [Symbol.asyncDispose]() {
      await worker.terminate()
    },
  }
}

/** How fixtures/hostile/hostile-port-peer.ts misbehaves on its port. */
export type HostilePortMode = 'never-acknowledges' | 'not-bytes' | 'acknowledges-too-much' | 'unfinished-frame' | 'no-hello'

/** A hostile peer's worker thread; disposing it terminates it. */
export interface HostilePortPeer extends AsyncDisposable, WorkerMessages {
  readonly worker: Worker
}

/** Starts fixtures/hostile/hostile-port-peer.ts in a worker thread, on one port whose other end `ports` serves. */
export function startHostilePortPeer(ports: MessagePortTransport, mode: HostilePortMode): HostilePortPeer {
  const { path, execArgv } = workerScript('hostile/hostile-port-peer.ts')
  const { port1, port2 } = new MessageChannel()
  ports.accept(port1)
  const worker = new Worker(path, { workerData: { mode, port: port2 }, transferList: [port2], execArgv })
  return {
    worker,
    ...watchWorker(worker),
    async [Symbol.asyncDispose]() {
      await worker.terminate()
    },
  }
}
