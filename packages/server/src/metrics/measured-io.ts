// The transport and the storage as the server sees them when it measures: each byte and each write counted on its way through.
import { ErrorCode, isIpcStateError } from '@ipc-state/protocol'
import type { Storage } from '../storage/storage.js'
import type { ConnectionEvents, Transport, TransportConnection, TransportHandlers } from '../transport/transport.js'
import type { ServerMetrics } from './server-metrics.js'

/**
 * `transport`, with every byte read from and written to its connections counted in `metrics`. One
 * wrapper per connection, nothing per frame.
 */
export function measuredTransport(transport: Transport, metrics: ServerMetrics): Transport {
  return {
    ...(transport.name === undefined ? {} : { name: transport.name }),
    listen: (handlers: TransportHandlers) =>
      transport.listen({
        error: (error) => handlers.error(error),
        connection: (connection) => {
          const events = handlers.connection(measuredConnection(connection, metrics))
          return {
            data: (chunk) => {
              metrics.received(chunk.byteLength)
              events.data(chunk)
            },
            drain: () => events.drain(),
            close: () => events.close(),
          } satisfies ConnectionEvents
        },
      }),
  }
}

function measuredConnection(connection: TransportConnection, metrics: ServerMetrics): TransportConnection {
  return {
    write: (bytes, written) => {
      metrics.sent(bytes.byteLength)
      return connection.write(bytes, written)
    },
    get bufferedBytes() {
      return connection.bufferedBytes
    },
    end: () => connection.end(),
    destroy: () => connection.destroy(),
  }
}

/** The writes of `storage`, each timed in `metrics` with its outcome: what the commit pipeline writes through. */
export function timedWrites(storage: Storage, metrics: ServerMetrics): Pick<Storage, 'write' | 'writesAtOnce'> {
  return {
    ...(storage.writesAtOnce && { writesAtOnce: () => storage.writesAtOnce!() }),
    write: async (entries) => {
      const startedAt = metrics.now()
      try {
        const result = await storage.write(entries)
        const conflict = typeof result === 'object' && result !== null && result.conflict === true
        metrics.stored(conflict ? 'conflict' : 'ok', startedAt)
        return result
      } catch (error) {
        // As the pipeline answers it: a failure without a code of ours is PERSIST_FAILED.
        metrics.stored(isIpcStateError(error) ? error.code : ErrorCode.PERSIST_FAILED, startedAt)
        throw error
      }
    },
  }
}
