// node-ipc 12 ships no types (and @types/node-ipc describes v9). This declares only what the
// transport adapter uses; it is never part of a public type.
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
    maxRetries: number
    stopRetrying: boolean
    readableAll: boolean
    writableAll: boolean
  }

  interface IpcServer {
    server: NetServer | false
    sockets: Socket[]
    start(): void
    stop(): void
    on(event: 'start', handler: () => void): this
    on(event: 'connect', handler: (socket: Socket) => void): this
    on(event: 'data', handler: (data: Buffer, socket: Socket) => void): this
    on(event: 'error', handler: (error: Error) => void): this
    on(event: string, handler: (...args: any[]) => void): this
    off(event: string, handler: '*' | ((...args: any[]) => void)): this
  }

  export class IPCModule {
    config: IpcConfig
    server: IpcServer
    serve(path: string, callback?: () => void): void
  }
}
