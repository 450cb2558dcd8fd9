// The server-sent event streams of the open inspector pages, each bounded in what it may have waiting.
import type { ServerResponse } from 'node:http'

/** The server-sent event streams of the open inspector pages. */
export interface EventStreams {
  /** Starts a stream on `response` and runs `greet` with a function that writes to it alone. */
  open(response: ServerResponse, greet: (send: (event: string, data: unknown) => void) => void): void
  /** Sends `data` as JSON, as the event `event`, to every open stream. */
  broadcast(event: string, data: unknown): void
  /** How many streams are open. */
  readonly size: number
  /** Ends every stream; later ones are refused. */
  close(): void
}

/** Options for {@link createEventStreams}. */
export interface EventStreamsOptions {
  /**
   * Bytes a stream may have waiting to be written: a page that reads slower than the state changes
   * is cut off past it, and its browser reconnects to a fresh snapshot.
   * @default 4 MiB
   */
  maxBufferedBytes?: number
  /** Headers every stream answer carries (the inspector's security headers). */
  headers?: Record<string, string>
}

/**
 * Server-sent event streams over plain `node:http` responses: one `event:` and one `data:` line a
 * message (JSON has no raw line breaks), each stream bounded in what it may queue.
 */
export function createEventStreams(options: EventStreamsOptions = {}): EventStreams {
  const maxBuffered = options.maxBufferedBytes ?? 4 * 1024 * 1024
  const streams = new Set<ServerResponse>()
  let closed = false

  const frame = (event: string, data: unknown): string => `event: ${event}\ndata: ${JSON.stringify(data ?? null)}\n\n`
  const write = (response: ServerResponse, text: string): void => {
    // A stream ended by close(), or by its page, takes nothing more.
    if (response.destroyed || response.writableEnded) return
    response.write(text)
    if (response.writableLength > maxBuffered) {
      streams.delete(response)
      response.destroy()
    }
  }

  return {
    open(response, greet) {
      if (closed) {
        response.writeHead(503, options.headers).end()
        return
      }
      response.writeHead(200, {
        ...options.headers,
        'Content-Type': 'text/event-stream; charset=utf-8',
        Connection: 'keep-alive',
      })
      // How long the browser waits before it reconnects a lost stream.
      response.write('retry: 1000\n\n')
      streams.add(response)
      response.once('close', () => streams.delete(response))
      greet((event, data) => write(response, frame(event, data)))
    },
    broadcast(event, data) {
      if (streams.size === 0) return
      const text = frame(event, data)
      for (const response of streams) write(response, text)
    },
    get size() {
      return streams.size
    },
    close() {
      closed = true
      for (const response of streams) response.end()
      streams.clear()
    },
  }
}
