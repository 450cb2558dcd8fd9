// The Unix-socket transport: node-ipc in raw mode, the socket file claimed safely, every connection written through a TickWriter.
import type { Socket } from 'node:net'
import { IPCModule } from '../vendor/node-ipc.js'
import { Defaults, ErrorCode, IpcStateError } from '@ipc-state/protocol'
import { DEFAULT_APPSPACE, DEFAULT_SOCKET_ROOT, readAsBytes, resolveSocketPath, type SocketAddress } from '@ipc-state/protocol/node'
import { claimAndListen, localSocketRoot, prepareSocketRoot, removeSocketFile } from '../files/socket-file.js'
import { TickWriter } from './tick-writer.js'
import {
  CLOSE_GRACE_MS,
  type ConnectionEvents,
  type Transport,
  type TransportConnection,
  type TransportHandlers,
  type TransportServer,
} from './transport.js'

/** Options for {@link createIpcTransport}. */
export interface IpcTransportOptions {
  /** The socket path, as `resolveSocketPath` gives it. */
  path: string
  /** The address `path` was resolved from: node-ipc names a Windows pipe from it. */
  address: SocketAddress
  /** The socket file's permission bits. */
  socketMode: number
  /** Accept a socket folder that another user owns or that others can write to. */
  allowUnsafeSocketRoot: boolean
}

/** Options for {@link unixSocketTransport}: where the socket is, as `createServer` takes them. */
export interface UnixSocketTransportOptions extends SocketAddress {
  /**
   * The socket file's permission bits.
   * @default 0o600 (owner only)
   */
  socketMode?: number
  /**
   * Accept a socket folder that another user owns or that others can write to.
   * @default false
   */
  allowUnsafeSocketRoot?: boolean
}

/**
 * The Unix socket `createServer` listens on when given no transport, as a transport of its own: to
 * serve it beside others, `createServer({ store, transport: [unixSocketTransport({ id }), ports] })`.
 * Its `name` is the socket path.
 * @throws IpcStateError `PATH_TOO_LONG` when the path does not fit a Unix socket
 */
export function unixSocketTransport(options: UnixSocketTransportOptions): Transport & { readonly name: string } {
  const address = socketAddress(options)
  return createIpcTransport({
    ...address,
    socketMode: options.socketMode ?? 0o600,
    allowUnsafeSocketRoot: options.allowUnsafeSocketRoot === true,
  }) as Transport & { readonly name: string }
}

/**
 * Where the Unix socket is: not node-ipc's shared /tmp/ by default, but a folder only this user can write to.
 * @throws IpcStateError `PATH_TOO_LONG`
 */
export function socketAddress(options: SocketAddress): { address: SocketAddress; path: string } {
  return {
    address: { socketRoot: options.socketRoot, appspace: options.appspace, id: options.id },
    path: resolveSocketPath({ ...options, socketRoot: options.socketRoot ?? localSocketRoot(), platform: process.platform }),
  }
}

/**
 * The production transport: node-ipc on a Unix socket (a named pipe on Windows). Listening claims
 * the socket path safely (see socket-file.ts); closing removes the socket file if it is still ours.
 */
export function createIpcTransport(options: IpcTransportOptions): Transport {
  const { path, address } = options
  return {
    name: path,
    async listen(handlers) {
      // node-ipc's limit is only a backstop: the server's own answers with a reason.
      const maxConnections = (handlers.maxConnections ?? Defaults.MAX_CONNECTIONS) + 64
      const listen = (listenPath: string) => listenIpc({ path: listenPath, maxConnections, handlers })
      if (process.platform === 'win32') {
        // Named pipes leave no file behind. node-ipc's server turns the plain path into a pipe name
        // itself on Windows (its client does not), so it gets the plain path there.
        return listen((address.socketRoot ?? DEFAULT_SOCKET_ROOT) + (address.appspace ?? DEFAULT_APPSPACE) + address.id)
      }
      await prepareSocketRoot(path, options.allowUnsafeSocketRoot)
      const { server, inode } = await claimAndListen(path, options.socketMode, listen)
      return {
        async close() {
          await server.close()
          await removeSocketFile(path, inode)
        },
      }
    },
  }
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
    // node-ipc decodes every socket with this encoding, which readAsBytes undoes; should it stay,
    // latin1 maps each byte to one character and back, so binary frames survive it (utf8 would not).
    encoding: 'latin1',
    unlink: false,
    maxConnections,
  })

  const sessions = new Map<Socket, ConnectionEvents>()
  /** Each connection's writer: closing flushes what it gathered this tick (the goodbye) before ending. */
  const writers = new Map<Socket, TickWriter>()
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
      let session: ConnectionEvents | undefined
      // Everything written in one tick leaves in one system call.
      const writer = new TickWriter(socket, () => session?.drain())
      writers.set(socket, writer)
      const connection: TransportConnection = {
        write: (bytes, written) => {
          if (socket.destroyed || socket.writableEnded) {
            if (written !== undefined) queueMicrotask(written)
            return false
          }
          return writer.write(bytes, written)
        },
        get bufferedBytes() {
          return writer.bufferedBytes
        },
        end: () => {
          // Nothing more is read from a connection being closed: a peer that keeps sending fills
          // its own socket buffer, not the server's memory or CPU.
          socket.pause()
          writer.end()
        },
        destroy: () => {
          socket.destroy()
        },
      }
      session = handlers.connection(connection)
      sessions.set(socket, session)
      // node-ipc's own reader copies every chunk the socket decoded into a new Buffer to publish it;
      // the session reads the socket's text itself.
      socket.removeAllListeners('data')
      // Read as bytes: a frame is JSON text or binary, and the session's decoder tells which.
      readAsBytes(socket)
      socket.on('data', (data: Buffer | string) => session?.data(typeof data === 'string' ? Buffer.from(data, 'latin1') : data))
      socket.once('close', () => {
        const session = sessions.get(socket)
        sessions.delete(socket)
        writers.delete(socket)
        // node-ipc keeps every socket in an array; drop ours so long-running servers do not leak.
        const index = server.sockets.indexOf(socket)
        if (index !== -1) server.sockets.splice(index, 1)
        session?.close()
      })
    })
    server.start()
  })

  function close(): Promise<void> {
    const netServer = ipc.server.server
    return new Promise((resolve) => {
      for (const socket of sessions.keys()) {
        // Lets what was written reach the peer, the goodbye still gathered for this tick included;
        // a peer that never closes is cut after a grace.
        const writer = writers.get(socket)
        if (writer === undefined) socket.end()
        else writer.end()
        setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref()
      }
      // node-ipc leaves `server` false until it listens.
      if (netServer === false || !netServer?.listening) {
        resolve()
        return
      }
      // Calls back once every connection has closed.
      netServer.close(() => resolve())
    })
  }
}
