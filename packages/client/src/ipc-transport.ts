import { IPCModule } from 'node-ipc'
import type { ClientConnection, ClientConnectionHandlers } from './client-transport.js'

const CONNECTION_ID = 'ipc-state'

/**
 * Opens one connection through node-ipc in raw mode: node-ipc's reader only dispatches a read
 * that ends exactly on a delimiter, so a steady stream of changes could stall it; our own decoder
 * handles the bytes instead. node-ipc's retry is off: reconnecting is the client's job, with
 * backoff, and only one layer may do it. node-ipc appears in no other module of the client.
 */
export function openIpcConnection(path: string, handlers: ClientConnectionHandlers): ClientConnection {
  const ipc = new IPCModule()
  Object.assign(ipc.config, { silent: true, rawBuffer: true, encoding: 'utf8', stopRetrying: true, maxRetries: 0 })
  let ended = false
  let lastError: Error | undefined
  const end = (error?: Error) => {
    if (ended) return
    ended = true
    ipc.disconnect(CONNECTION_ID)
    handlers.close(error)
  }
  ipc.connectTo(CONNECTION_ID, path)
  const peer = ipc.of[CONNECTION_ID]!
  peer.on('connect', () => {
    if (!ended) handlers.open()
  })
  peer.on('data', (data) => {
    if (!ended) handlers.data(data.toString('utf8'))
  })
  peer.on('error', (error) => {
    lastError = error
  })
  peer.on('disconnect', () => end(lastError))
  return {
    write: (text) => {
      if (!ended) peer.emit(text)
    },
    close: () => end(),
  }
}
