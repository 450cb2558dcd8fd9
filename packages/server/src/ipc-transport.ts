import type { Socket } from 'node:net'
import { IPCModule } from 'node-ipc'
import { ErrorCode, IpcStateError } from '@ipc-state/protocol'

/** How long a closing connection may take to receive what was written to it. */
export const CLOSE_GRACE_MS = 250

/** One client connection, as the server sees it. The only view of a socket outside this module. */
export interface TransportConnection {
  /** Writes already-encoded text. */
  write(text: string): void
  /** Bytes queued for this connection that the peer has not read yet. */
  readonly bufferedBytes: number
  /** Stops reading, sends what is queued, then closes. */
  end(): void
  /** Closes at once, dropping anything queued. */
  destroy(): void
}

/** Callbacks the server gives the transport. */
export interface TransportHandlers {
  connection(connection: TransportConnection): {
    data(text: string): void
    close(): void
  }
  error(error: Error): void
}

/** A listening transport. */
export interface TransportServer {
  /** Stops accepting, ends every open connection and resolves once all have closed. */
  close(): Promise<void>
}

/** Options for {@link listenIpc}. */
export interface ListenIpcOptions {
  path: string
  maxConnections: number
  handlers: TransportHandlers
}

/**
 * Listens through node-ipc in raw mode: node-ipc accepts connections and hands over bytes, but
 * never parses or dispatches them itself, because one hostile frame can kill its event layer.
 * node-ipc's own `unlink` is off: the caller decides whether an existing socket may be replaced.
 */
export function listenIpc(options: ListenIpcOptions): Promise<TransportServer> {
  const { path, maxConnections, handlers } = options
  const ipc = new IPCModule()
  Object.assign(ipc.config, {
    silent: true,
    rawBuffer: true,
    encoding: 'utf8',
    unlink: false,
    maxConnections,
  })

  const sessions = new Map<Socket, ReturnType<TransportHandlers['connection']>>()
  let listening = false

  return new Promise((resolve, reject) => {
    ipc.serve(path, () => {
      listening = true
      resolve({ close })
    })
    const server = ipc.server
    server.on('error', (error: NodeJS.ErrnoException) => {
      if (listening) {
        handlers.error(error)
        return
      }
      // Before listening, an error is a failed listen; with `silent` node-ipc would hide it.
      reject(
        error.code === 'EADDRINUSE'
          ? new IpcStateError(ErrorCode.ADDRESS_IN_USE, `Another process listens at ${path}`, { cause: error })
          : new IpcStateError(ErrorCode.LISTEN_FAILED, `Cannot listen at ${path}: ${error.message}`, {
              cause: error,
            }),
      )
    })
    server.on('connect', (socket: Socket) => {
      const connection: TransportConnection = {
        write: (text) => {
          if (!socket.destroyed) socket.write(text)
        },
        get bufferedBytes() {
          return socket.writableLength
        },
        end: () => {
          // Nothing more is read from a connection being closed: a peer that keeps sending fills
          // its own socket buffer, not the server's memory or CPU.
          socket.pause()
          socket.end()
        },
        destroy: () => {
          socket.destroy()
        },
      }
      sessions.set(socket, handlers.connection(connection))
      socket.once('close', () => {
        const session = sessions.get(socket)
        sessions.delete(socket)
        // node-ipc keeps every socket in an array; drop ours so long-running servers do not leak.
        const index = server.sockets.indexOf(socket)
        if (index !== -1) server.sockets.splice(index, 1)
        session?.close()
      })
    })
    server.on('data', (data: Buffer, socket: Socket) => {
      sessions.get(socket)?.data(data.toString('utf8'))
    })
    server.start()
  })

  function close(): Promise<void> {
    const netServer = ipc.server.server
    return new Promise((resolve) => {
      for (const socket of sessions.keys()) {
        // Lets what was written reach the peer; a peer that never closes is cut after a grace.
        socket.end()
        setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref()
      }
      if (!netServer || !netServer.listening) {
        resolve()
        return
      }
      // Calls back once every connection has closed.
      netServer.close(() => resolve())
    })
  }
}
