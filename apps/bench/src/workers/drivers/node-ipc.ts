// The node-ipc side: a raw node-ipc 12 client exchanging events with node-ipc-server.ts.
import { IPCModule } from 'node-ipc'
import type { Address } from '../configs.js'
import type { Driver, Side } from './driver.js'

const SERVER = 'bench'

function nodeIpcPath(address: Address): string {
  if (address.kind !== 'node-ipc') throw new TypeError(`not a node-ipc address: ${address.kind}`)
  return address.path
}

interface Connection {
  request(op: string, value?: unknown): Promise<unknown>
  onMessage(listener: () => void): void
  close(): void
}

function open(path: string): Promise<Connection> {
  const ipc = new IPCModule()
  ipc.config.silent = true
  ipc.config.maxRetries = 0
  const pending = new Map<number, (value: unknown) => void>()
  let nextId = 1
  return new Promise((resolve, reject) => {
    ipc.connectTo(SERVER, path, () => {
      const server = ipc.of[SERVER]!
      server.on('error', reject)
      server.on('reply', (data: { i: number; v: unknown }) => {
        pending.get(data.i)?.(data.v)
        pending.delete(data.i)
      })
      server.on('connect', () =>
        resolve({
          request(op, value) {
            const i = nextId++
            const answer = new Promise((settle) => pending.set(i, settle))
            server.emit(op, { i, v: value })
            return answer
          },
          onMessage: (listener) => server.on('message', listener),
          close: () => ipc.disconnect(SERVER),
        }),
      )
    })
  })
}

/** The node-ipc side. */
export const nodeIpcSide: Side = {
  async connect(config) {
    const connection = await open(nodeIpcPath(config.address))
    const driver: Driver = {
      call: (op, value) => connection.request(op, value),
      async subscribe(onCount) {
        let count = 0
        connection.onMessage(() => onCount(++count))
        await connection.request('subscribe')
      },
      async close() {
        connection.close()
      },
    }
    return driver
  },
  async firstSnapshot(address) {
    const connection = await open(nodeIpcPath(address))
    await connection.request('snapshot')
    return async () => connection.close()
  },
}
