// The ipc-state side: the public client, with its replica unless the config turns it off.
import { connect, type IpcStateClient } from '@ipc-state/client'
import type { BenchStore, Item } from '../../stores/bench-store.js'
import type { Address } from '../configs.js'
import type { Driver, Side } from './driver.js'

function ipcStateAddress(address: Address) {
  if (address.kind !== 'ipc-state') throw new TypeError(`not an ipc-state address: ${address.kind}`)
  const { socketRoot, appspace, id } = address
  return { socketRoot, appspace, id }
}

/** IPC_STATE_BENCH_BINARY_FRAMES=0 keeps every frame JSON text, to measure what binary frames bring. */
export const binaryFrames = process.env.IPC_STATE_BENCH_BINARY_FRAMES !== '0'

/** The bench's operations on a connected client, whatever carries its bytes. */
export function ipcStateDriver(client: IpcStateClient<BenchStore>): Driver {
  return {
    call(op, value) {
      switch (op) {
        case 'incr':
          return client.actions.increment(1)
        case 'echo':
          return client.actions.echo(value as string)
        case 'get':
          return client.actions.get()
        case 'publish':
          return client.actions.publish(value as string)
        case 'pushShift':
          return client.actions.pushShift(value as Item)
      }
    },
    readLocal: () => client.state.counter,
    async subscribe(onCount) {
      const base = client.version
      client.subscribe(() => onCount(client.version - base, client.state.message))
    },
    close: () => client.close(),
  }
}

/** The ipc-state side. */
export const ipcStateSide: Side = {
  async connect(config) {
    return ipcStateDriver(await connect<BenchStore>({ ...ipcStateAddress(config.address), replica: config.replica, binaryFrames }))
  },
  async firstSnapshot(address) {
    const client = await connect<BenchStore>(ipcStateAddress(address))
    return () => client.close()
  },
}
