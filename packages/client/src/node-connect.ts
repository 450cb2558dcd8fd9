// `connect` for Node.js: the Unix socket by default, loaded on first use, or a transport of one's own.
import type { StoreDefinition } from '@ipc-state/protocol'
import {
  type ConnectOptions,
  failoverOption,
  parseClientOptions,
  transportOption,
  type UnixSocketConnectOptions,
} from './client-options.js'
import { connectOver, start } from './connect.js'
import type { IpcStateClient } from './ipc-state-client.js'

/**
 * Connects to the server at node-ipc's path `socketRoot + appspace + id`, or over the `transport`
 * given, waiting with backoff while the server is not up yet, and resolves once the handshake is
 * done (and, with a replica, once the replica holds the server's state).
 *
 * The Unix-socket transport, node-ipc and the Node.js modules it needs are loaded by the first
 * `connect` without a `transport`, not before: a client over a transport of its own loads none.
 *
 * @example
 * ```ts
 * await using client = await connect<typeof demoStore>({ socketRoot: '/tmp/cem/', appspace: 'ipc-ogreniyorum', id: 'server-socket' })
 * client.state.counter
 * await client.actions.increment(2)
 * ```
 * @throws TypeError when an option is invalid, or a socket option (`failover` included) is given with `transport`
 * @throws IpcStateError (rejects with) `SERVER_UNAVAILABLE` after `connectAttempts` failed attempts,
 *   `PROTOCOL_MISMATCH`, `ABORTED`, `PATH_TOO_LONG`, `FOREIGN_SERVER` (the socket is another user's),
 *   `BAD_REQUEST` (the server answered the handshake with a malformed result)
 */
export function connect<T extends StoreDefinition<any, any>>(options: ConnectOptions): Promise<IpcStateClient<T>> {
  const transport = transportOption(options)
  if (transport !== undefined) return connectOver<T>(transport, options)
  // Every option is checked now, so that a wrong one throws here as it always has; where the
  // socket is comes with the transport's module.
  const settings = parseClientOptions(options, '')
  const failover = failoverOption(options as UnixSocketConnectOptions)
  return import('./transport/ipc-transport.js').then(({ unixSocketTransport }) => {
    const { allowForeignServer } = settings
    const sockets = [options as UnixSocketConnectOptions, ...failover].map((address) =>
      unixSocketTransport({ socketRoot: address.socketRoot, appspace: address.appspace, id: address.id, allowForeignServer }),
    )
    return start<T>(sockets, settings, options.socketRoot)
  })
}
