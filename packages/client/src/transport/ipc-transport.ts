// The Unix-socket transport: where the socket is, whether to trust it, and node-ipc. Loaded only when used.
import { lstatSync, statSync, type Stats } from 'node:fs'
import { tmpdir } from 'node:os'
import type { Socket } from 'node:net'
import { ErrorCode, IpcStateError } from '@ipc-state/protocol'
import { localSocketRoot, readAsBytes, resolveSocketPath, type SocketAddress } from '@ipc-state/protocol/node'
import { IPCModule } from '../vendor/node-ipc.js'
import type { ClientConnection, ClientConnectionHandlers, ClientTransport } from './client-transport.js'

const CONNECTION_ID = 'ipc-state'

/** Options for {@link openIpcConnection}. */
export interface IpcConnectionOptions {
  /**
   * Use a socket that belongs to another user (see the client's `allowForeignServer`).
   * @default false
   */
  allowForeignServer?: boolean
}

/** Options for {@link unixSocketTransport}: where the socket is, and whether another user's may be used. */
export interface UnixSocketOptions extends SocketAddress, IpcConnectionOptions {}

/**
 * The transport `connect` uses when given none: node-ipc's socket at `socketRoot + appspace + id`,
 * `socketRoot` defaulting to the folder of this user's own that the server picks too.
 * @throws IpcStateError `PATH_TOO_LONG` when the path does not fit a Unix socket
 */
export function unixSocketTransport(options: UnixSocketOptions): ClientTransport & { readonly name: string } {
  // Not node-ipc's shared /tmp/ by default: the folder only this user can write to, as the server's.
  const path = resolveSocketPath({
    ...options,
    socketRoot: options.socketRoot ?? localSocketRoot({ process, lstatSync, tmpdir }),
    platform: process.platform,
  })
  const ipcOptions = { allowForeignServer: options.allowForeignServer === true }
  return { name: path, open: (handlers) => openIpcConnection(path, handlers, ipcOptions) }
}

/**
 * Why the socket at `path` must not be used, if it must not: it belongs to neither this process's
 * user nor root (`FOREIGN_SERVER`), or it is not a socket (`NOT_A_SOCKET`), or it is not there.
 * Both a symbolic link at the path and where it leads must pass. Named pipes (Windows) and
 * platforms without user ids are not checked.
 */
export function socketRefusal(path: string): Error | undefined {
  const uid = process.getuid?.()
  if (process.platform === 'win32' || uid === undefined) return undefined
  let link: Stats
  let target: Stats
  try {
    link = lstatSync(path)
    target = link.isSymbolicLink() ? statSync(path) : link
  } catch (error) {
    // As a connection attempt would have failed; nobody was connected to.
    const { code } = error as NodeJS.ErrnoException
    return Object.assign(new Error(`connect ${code ?? 'failed'} ${path}`), { code, cause: error })
  }
  for (const stats of [link, target]) {
    if (stats.uid === uid || stats.uid === 0) continue
    return new IpcStateError(
      ErrorCode.FOREIGN_SERVER,
      `The socket ${path} belongs to user ${stats.uid}, not to this process's user (${uid}) or root: it may be another ` +
        "user's server standing in for yours, so nothing was sent to it. Start the server as this user, or choose a " +
        'socketRoot only this user can write to; if that user and its server are trusted, pass allowForeignServer: true.',
      { data: { path, owner: stats.uid, uid } },
    )
  }
  if (!target.isSocket()) {
    return new IpcStateError(ErrorCode.NOT_A_SOCKET, `${path} is not a socket; nothing was sent to it`, { data: { path } })
  }
  return undefined
}

/**
 * Opens one connection through node-ipc in raw mode: node-ipc's reader only dispatches a read
 * that ends exactly on a delimiter, so a steady stream of changes could stall it; our own decoder
 * handles the bytes instead. node-ipc's retry is off: reconnecting is the client's job, with
 * backoff, and only one layer may do it. node-ipc appears in no other module of the client.
 *
 * Unless `allowForeignServer`, the socket's owner is checked (see {@link socketRefusal}) before
 * connecting, and again once connected, before `open` lets the client write anything: a socket
 * swapped in between is caught too, as far as a path can tell.
 */
export function openIpcConnection(
  path: string,
  handlers: ClientConnectionHandlers,
  options: IpcConnectionOptions = {},
): ClientConnection {
  const check = () => (options.allowForeignServer === true ? undefined : socketRefusal(path))
  const refusal = check()
  if (refusal !== undefined) return refusedAttempt(refusal, handlers)
  const ipc = new IPCModule()
  // node-ipc decodes the socket with this encoding, which readAsBytes undoes; should it stay, latin1
  // maps each byte to one character and back, so binary frames survive it (utf8 would not).
  Object.assign(ipc.config, { silent: true, rawBuffer: true, encoding: 'latin1', stopRetrying: true, maxRetries: 0 })
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
  let socket: Socket | undefined
  // The one place the client gathers writes: the frames written in one tick leave in one system
  // call (the socket corked around them writes them with one writev), none of them copied.
  // Text frames are joined and encoded once: one buffer for the calls of a tick, not one each.
  let unsent: (Uint8Array | string)[] = []
  const flush = () => {
    const frames = unsent
    unsent = []
    if (ended || socket === undefined) return
    const chunks = joinText(frames)
    if (chunks.length === 1) {
      socket.write(chunks[0]!)
      return
    }
    socket.cork()
    for (const chunk of chunks) socket.write(chunk)
    socket.uncork()
  }
  peer.on('connect', () => {
    if (ended) return
    const late = check()
    if (late !== undefined) {
      end(late)
      return
    }
    // node-ipc made the connection; its reader and writer would copy every chunk into a new
    // Buffer and build a message object for every frame, so the socket is read and written here.
    if (peer.socket === false) return
    socket = peer.socket
    socket.removeAllListeners('data')
    // Read as bytes: a frame is JSON text or binary, and the client's decoder tells which.
    readAsBytes(socket)
    socket.on('data', (data: Buffer | string) => {
      if (!ended) handlers.data(typeof data === 'string' ? Buffer.from(data, 'latin1') : data)
    })
    handlers.open()
  })
  peer.on('error', (error) => {
    lastError = error
  })
  peer.on('disconnect', () => end(lastError))
  return {
    write: (bytes) => {
      if (ended || socket === undefined) return
      if (unsent.push(bytes) === 1) process.nextTick(flush)
    },
    writeText: (text) => {
      if (ended || socket === undefined) return
      if (unsent.push(text) === 1) process.nextTick(flush)
    },
    close: () => {
      // What this tick wrote (a goodbye, say) goes to the kernel before the socket is destroyed.
      flush()
      end()
    },
  }
}

/** `frames` with each run of text frames joined into one buffer, in order. */
function joinText(frames: readonly (Uint8Array | string)[]): Uint8Array[] {
  const chunks: Uint8Array[] = []
  let text = ''
  for (const frame of frames) {
    if (typeof frame === 'string') {
      text += frame
      continue
    }
    if (text !== '') chunks.push(Buffer.from(text, 'utf8'))
    text = ''
    chunks.push(frame)
  }
  if (text !== '') chunks.push(Buffer.from(text, 'utf8'))
  return chunks
}

/** An attempt that failed before connecting: it reports `close(error)` later, as a socket would. */
function refusedAttempt(error: Error, handlers: ClientConnectionHandlers): ClientConnection {
  let ended = false
  const end = (reason?: Error) => {
    if (ended) return
    ended = true
    handlers.close(reason)
  }
  setImmediate(() => end(error))
  return { write: () => {}, close: () => end() }
}
