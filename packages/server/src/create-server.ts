import { socketRootWarning, type ActionMap } from '@ipc-state/protocol'
import { createIpcTransport } from './ipc-transport.js'
import { parseServerOptions, type CreateServerOptions } from './server-options.js'
import { startServer, type IpcStateServer } from './start-server.js'

/**
 * Starts a server that owns `store`'s state and serves it at node-ipc's path
 * `socketRoot + appspace + id`. Creates `socketRoot` (mode 0700) when missing.
 *
 * @example
 * ```ts
 * await using server = await createServer({ store: demoStore, socketRoot: '/tmp/cem/', appspace: 'ipc-ogreniyorum', id: 'server-socket' })
 * ```
 * @throws TypeError when an option is invalid
 * @throws IpcStateError `PATH_TOO_LONG`, `UNSAFE_SOCKET_ROOT`, `NOT_A_SOCKET`, `ADDRESS_IN_USE`, `LISTEN_FAILED`
 */
export async function createServer<S extends object, A extends ActionMap<S>>(
  options: CreateServerOptions<S, A>,
): Promise<IpcStateServer<S>> {
  const settings = parseServerOptions(options)
  const rootWarning = socketRootWarning(options.socketRoot)
  if (rootWarning !== undefined) settings.logger.warn?.(rootWarning, { socketRoot: options.socketRoot, path: settings.path })
  return startServer(settings, createIpcTransport(settings))
}
