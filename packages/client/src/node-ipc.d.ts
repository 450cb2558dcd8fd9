// node-ipc 12 ships no types (and @types/node-ipc describes v9). This declares only what the
// transport adapter uses; it is never part of a public type.
declare module 'node-ipc' {
  interface IpcConfig {
    appspace: string
    socketRoot: string
    id: string
    encoding: BufferEncoding
    rawBuffer: boolean
    silent: boolean
    maxRetries: number
    stopRetrying: boolean
  }

  interface IpcClient {
    emit(data: Buffer | string): void
    on(event: 'connect' | 'disconnect', handler: () => void): this
    on(event: 'data', handler: (data: Buffer) => void): this
    on(event: 'error', handler: (error: Error) => void): this
  }

  export class IPCModule {
    config: IpcConfig
    of: Record<string, IpcClient | undefined>
    connectTo(id: string, path: string, callback?: () => void): void
    disconnect(id: string): void
  }
}
