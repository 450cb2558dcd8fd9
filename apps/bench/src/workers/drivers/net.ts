// The raw `node:net` side: newline-delimited JSON to the tiny server of net-server.ts.
import { connect as connectSocket, type Socket } from 'node:net'
import type { Address } from '../configs.js'
import { readJsonLines, writeJsonLine } from '../json-lines.js'
import type { Driver, Side } from './driver.js'

function netPath(address: Address): string {
  if (address.kind !== 'net') throw new TypeError(`not a node:net address: ${address.kind}`)
  return address.path
}

interface Connection {
  request(op: string, value?: unknown): Promise<unknown>
  onPush(listener: () => void): void
  socket: Socket
}

function open(path: string): Promise<Connection> {
  const socket = connectSocket(path)
  const pending = new Map<number, (value: unknown) => void>()
  let onPush = () => {}
  let nextId = 1
  readJsonLines(socket, (message: { i?: number; v?: unknown }) => {
    if (message.i === undefined) return onPush()
    pending.get(message.i)?.(message.v)
    pending.delete(message.i)
  })
  return new Promise((resolve, reject) => {
    socket.once('error', reject)
    socket.once('connect', () =>
      resolve({
        socket,
        onPush: (listener) => {
          onPush = listener
        },
        request(op, value) {
          const i = nextId++
          const answer = new Promise((settle) => pending.set(i, settle))
          writeJsonLine(socket, { i, op, v: value })
          return answer
        },
      }),
    )
  })
}

/** The raw `node:net` side. */
export const netSide: Side = {
  async connect(config) {
    const connection = await open(netPath(config.address))
    const driver: Driver = {
      call: (op, value) => connection.request(op, value),
      async subscribe(onCount) {
        let count = 0
        connection.onPush(() => onCount(++count))
        await connection.request('subscribe')
      },
      async close() {
        connection.socket.destroy()
      },
    }
    return driver
  },
  async firstSnapshot(address) {
    const connection = await open(netPath(address))
    await connection.request('snapshot')
    return async () => {
      connection.socket.destroy()
    }
  },
}
