// The seam between the server's core and whatever carries its bytes: node-ipc in production
// (ipc-transport.ts), memory in unit tests (memory-transport.ts). The core sees nothing else.

/** How long a closing connection may take to receive what was written to it. */
export const CLOSE_GRACE_MS = 250

/** One client connection, as the server sees it. The only view of a socket outside a transport. */
export interface TransportConnection {
  /**
   * Queues encoded bytes, or text as UTF-8, for the peer. Bytes are written as they are, never
   * copied: the same bytes may be queued for many connections at once. `written`, if given, is
   * called exactly once, from the transport's own task: when the bytes have left the process, or
   * when the connection is gone and they never will. Returns false once the peer has fallen behind
   * (as a socket's `write` does): the transport reports `drain` when it takes more.
   */
  write(chunk: string | Uint8Array, written?: () => void): boolean
  /** Gathers the writes until `uncork` into one system call (optional). */
  cork?(): void
  uncork?(): void
  /** Bytes queued for this connection that have not left the process yet, in bytes of UTF-8. */
  readonly bufferedBytes: number
  /** Stops reading, sends what is queued, then closes. */
  end(): void
  /** Closes at once, dropping anything queued. */
  destroy(): void
}

/**
 * Callbacks the server gives the transport. The transport calls them from its own tasks, never from
 * inside `write`, `end` or `destroy`: the server may change its own state right after those calls.
 */
export interface TransportHandlers {
  /** A peer connected; the transport then reports what it sends and when it is gone. */
  connection(connection: TransportConnection): {
    /** Bytes the peer sent (text from the in-memory transport, taken as UTF-8). */
    data(chunk: string | Uint8Array): void
    /** The connection takes writes again after a `write` returned false. */
    drain?(): void
    close(): void
  }
  /** Something went wrong below one connection (a peer gone mid-write, say); the server carries on. */
  error(error: Error & { code?: string }): void
}

/** A listening transport. */
export interface TransportServer {
  /** Stops accepting, ends every open connection and resolves once all have closed. */
  close(): Promise<void>
}

/** What the server's core needs from a transport: a way to start listening. */
export interface Transport {
  /**
   * Starts accepting connections and reports them to `handlers`.
   * @throws IpcStateError when it cannot listen (`ADDRESS_IN_USE`, `LISTEN_FAILED`, …)
   */
  listen(handlers: TransportHandlers): Promise<TransportServer>
}
