// node-ipc 12 ships no types (and @types/node-ipc describes v9). This declares the event API the
// bench's node-ipc side uses: its raw server and client exchanging named events.
declare module 'node-ipc' {
  import type { Socket } from 'node:net'

  interface IpcConfig {
    appspace: string
    socketRoot: string
    id: string
    silent: boolean
    retry: number
    maxRetries: number | boolean
    stopRetrying: boolean
    unlink: boolean
    maxConnections: number
  }

  interface IpcServer {
    start(): void
    stop(): void
    on(event: 'start', handler: () => void): this
    on(event: 'socket.disconnected', handler: (socket: Socket) => void): this
    on(event: string, handler: (data: any, socket: Socket) => void): this
    emit(socket: Socket, event: string, data: unknown): void
    broadcast(event: string, data: unknown): void
  }

  interface IpcClient {
    emit(event: string, data: unknown): void
    on(event: 'connect' | 'disconnect', handler: () => void): this
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
