// The server's description of itself and of its connections, for `server/info`.
import { PROTOCOL_VERSION, SERVER_INFO_MAX_CONNECTIONS } from '@ipc-state/protocol/wire'
import type { ServerInfoConnection, ServerInfoResult } from '@ipc-state/protocol'
import type { Session } from './session.js'

/** What {@link describeServer} reads. */
export interface ServerInfoSources {
  settings: {
    path: string
    maxConnections: number
    maxInFlight: number
    maxFrameBytes: number
    maxBufferedBytes: number
    maxTotalBufferedBytes: number
  }
  /** The state as clients are served it. */
  store: { readonly epoch: string; readonly version: number }
  /** Every connection served now. */
  served: ReadonlySet<Session>
  /** When the server started, as `performance.now()` read it. */
  startedAt: number
  /** What the server counted since it started. */
  counters(): ServerInfoResult['counters']
}

/**
 * The server's description for `server/info`. The list of connections holds greeted ones only (the
 * others have no ids yet) and stops at `SERVER_INFO_MAX_CONNECTIONS`, so the answer stays small
 * however many clients are served; `connectionCount` counts them all.
 */
export function describeServer({ settings, store, served, startedAt, counters }: ServerInfoSources): ServerInfoResult {
  const { path, maxConnections, maxInFlight, maxFrameBytes, maxBufferedBytes, maxTotalBufferedBytes } = settings
  const connections: ServerInfoConnection[] = []
  for (const session of served) {
    if (connections.length >= SERVER_INFO_MAX_CONNECTIONS) break
    if (session.clientId === undefined || session.instanceId === undefined) continue
    const { clientId, instanceId, replica, inFlight, queuedBytes } = session
    const connection: ServerInfoConnection = { clientId, instanceId, replica, inFlight, queuedBytes }
    if (session.binary) {
      connection.binary = true
      connection.binaryFramesReceived = session.binaryFramesReceived
      connection.binaryFramesSent = session.binaryFramesSent
    }
    connections.push(connection)
  }
  return {
    protocol: PROTOCOL_VERSION,
    epoch: store.epoch,
    version: store.version,
    path,
    uptimeMs: Math.round(performance.now() - startedAt),
    connections,
    connectionCount: served.size,
    counters: counters(),
    limits: { maxConnections, maxInFlight, maxFrameBytes, maxBufferedBytes, maxTotalBufferedBytes },
  }
}
