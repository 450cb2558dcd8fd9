// The HTTP side of the WebSocket listener: binding it, and answering an upgrade it refuses.
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { ErrorCode, IpcStateError } from '@ipc-state/protocol'

/** Answers an upgrade request that is refused, and closes its connection. */
export function refuse(socket: Duplex, status: number, reason: string): void {
  if (!socket.writable) {
    socket.destroy()
    return
  }
  socket.once('finish', () => socket.destroy())
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${reason.length}\r\n\r\n${reason}`,
  )
}

/** Binds `http` and resolves with its port. */
export function bind(http: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) => {
      reject(
        error.code === 'EADDRINUSE'
          ? new IpcStateError(ErrorCode.ADDRESS_IN_USE, `Another process listens on ${host}:${port}`, { cause: error })
          : new IpcStateError(ErrorCode.LISTEN_FAILED, `Cannot listen on ${host}:${port}: ${error.message}`, { cause: error }),
      )
    }
    http.once('error', failed)
    http.listen(port, host, () => {
      http.off('error', failed)
      // A failing connection after this is that connection's own business.
      http.on('clientError', (_error, socket) => socket.destroy())
      resolve((http.address() as AddressInfo).port)
    })
  })
}
