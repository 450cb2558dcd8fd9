// node-ipc 12 ships no types (and @types/node-ipc describes v9). This declares what the server's
// and the client's transport adapters use (raw mode), and the event API the bench's node-ipc side
// uses; it is never part of a public type.
declare module 'node-ipc' {
  import type { Socket, Server as NetServer } from 'node:net'

  interface IpcConfig {
    appspace: string
    socketRoot: string
    id: string
    encoding: BufferEncoding
    rawBuffer: boolean
    sync: boolean
    unlink: boolean
    delimiter: string
    silent: boolean
    logger: (message: string) => void
    maxConnections: number
    retry: number
    maxRetries: number | boolean
    stopRetrying: boolean
    readableAll: boolean
    writableAll: boolean
  }

  /** `ipc.server`, once `serve()` was called. */
  interface IpcServer {
    server: NetServer | false
    sockets: Socket[]
    start(): void
    stop(): void
    on(event: 'start', handler: () => void): this
    on(event: 'connect', handler: (socket: Socket) => void): this
    on(event: 'data', handler: (data: Buffer, socket: Socket) => void): this
    on(event: 'error', handler: (error: Error) => void): this
    on(event: 'socket.disconnected', handler: (socket: Socket) => void): this
    on(event: string, handler: (...args: any[]) => void): this
    off(event: string, handler: '*' | ((...args: any[]) => void)): this
    /** Event mode: sends event `event` with `data` to one connection. */
    emit(socket: Socket, event: string, data: unknown): void
    /** Event mode: sends event `event` with `data` to every connection. */
    broadcast(event: string, data: unknown): void
  }

  /** `ipc.of[id]`, once `connectTo()` was called. */
  interface IpcClient {
    /** The connection's socket, once connected (`false` before). */
    socket: Socket | false
    /** Raw mode: writes `data` as it is. */
    emit(data: Buffer | string): void
    /** Event mode: sends event `event` with `data`. */
    emit(event: string, data: unknown): void
    on(event: 'connect' | 'disconnect', handler: () => void): this
    on(event: 'data', handler: (data: Buffer) => void): this
    on(event: 'error', handler: (error: Error) => void): this
    on(event: string, handler: (data: any) => void): this
  }

  /** An independent instance; the package's default export is a shared singleton. */
  export class IPCModule {
    config: IpcConfig
    server: IpcServer
    of: Record<string, IpcClient | undefined>
    serve(path: string, callback?: () => void): void
    connectTo(id: string, path: string, callback?: () => void): void
    disconnect(id: string): void
  }
}
