// The ipc-state side over WebSocket: the browser entry's client and transport, with the `ws`
// package's WebSocket, as Node 20 has none of its own.
import { connect, type WebSocketConstructor, webSocketTransport } from '@ipc-state/client/browser'
import { WebSocket } from 'ws'
import type { BenchStore } from '../../stores/bench-store.js'
import type { Address } from '../configs.js'
import type { Side } from './driver.js'
import { binaryFrames, ipcStateDriver } from './ipc-state.js'

function transport(address: Address) {
  if (address.kind !== 'websocket') throw new TypeError(`not a WebSocket address: ${address.kind}`)
  // ws's class has the WHATWG members the transport uses; its typings name their events otherwise.
  return webSocketTransport({ url: address.url, token: address.token, WebSocket: WebSocket as unknown as WebSocketConstructor })
}

/** The ipc-state side over WebSocket. */
export const webSocketSide: Side = {
  async connect(config) {
    return ipcStateDriver(
      await connect<BenchStore>({ transport: transport(config.address), replica: config.replica, binaryFrames }),
    )
  },
  async firstSnapshot(address) {
    const client = await connect<BenchStore>({ transport: transport(address) })
    return () => client.close()
  },
}
