// The seam between the server's core and whatever carries its bytes: a Unix socket through node-ipc
// by default (ipc-transport.ts), or any transports given as `createServer({ transport })`.

/** How long a closing connection may take to receive what was written to it. */
export const CLOSE_GRACE_MS = 250

/**
 * One client connection, as the server sees it: the only view of a peer outside a transport.
 *
 * The server's core writes each frame as soon as the connection takes it, several in one tick when
 * several are ready, and never gathers them itself: gathering writes into one system call is the
 * transport's job, done in one place. The Unix-socket transport writes all a tick made for one
 * connection in one system call (its `TickWriter`); a transport whose writes cost little (a message
 * port, memory) may pass each on as it comes.
 */
export interface TransportConnection {
  /**
   * Queues bytes for the peer, in order. The bytes are the server's and must not be changed or
   * kept past `written`; they are never copied by the server, and the same bytes may be queued for
   * many connections at once. `written`, if given, is called exactly once, from the transport's own
   * task, never from inside this call: when the bytes have left the process (or been handed to the
   * peer), or when the connection is gone and they never will.
   * @returns false once the peer has fallen behind (as a socket's `write` does): the server writes
   *   nothing more, except a last message before `end`, until the transport reports `drain`
   */
  write(bytes: Uint8Array, written?: () => void): boolean
  /**
   * Bytes written to this connection that have not left the process yet. The server counts its own
   * queue besides; this is what the transport holds.
   */
  readonly bufferedBytes: number
  /**
   * Stops reading, delivers what was written, then closes. The transport reports `close` once it
   * has; the server destroys a connection that has not closed 250 ms later.
   */
  end(): void
  /** Closes at once, dropping anything not delivered (each `written` is still called). */
  destroy(): void
}

/** What the server does with one connection's events: the answer to {@link TransportHandlers.connection}. */
export interface ConnectionEvents {
  /**
   * Bytes the peer sent, in order, cut anywhere: the server finds the frames in them. The server
   * does not keep `chunk` after the call returns.
   */
  data(chunk: Uint8Array): void
  /** The connection takes writes again after a `write` returned false. */
  drain(): void
  /** The connection is closed, from either side; reported exactly once, and nothing after it. */
  close(): void
}

/**
 * Callbacks the server gives the transport. The transport calls them from its own tasks, never from
 * inside `write`, `end` or `destroy`: the server may change its own state right after those calls.
 */
export interface TransportHandlers {
  /** A peer connected; the transport then reports what it sends and when it is gone. */
  connection(connection: TransportConnection): ConnectionEvents
  /**
   * Something went wrong below one connection and the server carries on. A `code` of `EPIPE` or
   * `ECONNRESET` (a peer gone mid-write) is logged at debug level, anything else as a warning.
   */
  error(error: Error & { code?: string }): void
  /**
   * The server's own connection limit (its `maxConnections`), past which it answers
   * `TOO_MANY_CONNECTIONS` itself: a transport with a limit of its own keeps it above this one.
   */
  readonly maxConnections?: number
}

/** A listening transport, as {@link Transport.listen} resolves. */
export interface TransportServer {
  /**
   * Stops accepting, ends every open connection (as `end` does, destroying those that have not
   * closed after a grace) and resolves once all have closed. The server has already said goodbye
   * on each connection when it calls this.
   */
  close(): Promise<void>
}

/**
 * What the server needs from a transport: a way to start listening. Give one to
 * `createServer({ store, transport })`, or several (`transport: [unixSocketTransport(…), ports]`);
 * `@ipc-state/server/testing` has one in memory.
 */
export interface Transport {
  /**
   * Where clients reach this server, as people read it (a path, a URL): the server's `path`,
   * `serverInfo().path` and its log lines show it.
   * @default 'custom transport'
   */
  readonly name?: string
  /**
   * Starts accepting connections and reports them to `handlers`. Called once per transport.
   * @throws IpcStateError when it cannot listen (`ADDRESS_IN_USE`, `LISTEN_FAILED`, …): `createServer`
   *   rejects with it
   */
  listen(handlers: TransportHandlers): Promise<TransportServer>
}

/**
 * Several transports as one: listens on each in turn (closing those already listening when one
 * cannot), and closes them all. Named after the first, where clients are told the server is.
 */
export function combineTransports(transports: readonly Transport[]): Transport {
  if (transports.length === 1) return transports[0]!
  return {
    name: transports[0]?.name,
    async listen(handlers) {
      const listening: TransportServer[] = []
      try {
        for (const transport of transports) listening.push(await transport.listen(handlers))
      } catch (error) {
        await Promise.allSettled(listening.map((server) => server.close()))
        throw error
      }
      return {
        async close() {
          const closed = await Promise.allSettled(listening.map((server) => server.close()))
          const failed = closed.find((result) => result.status === 'rejected')
          if (failed !== undefined) throw failed.reason
        },
      }
    },
  }
}
