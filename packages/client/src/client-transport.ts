/**
 * What the client needs from one connection. Everything else about the transport (node-ipc, or an
 * in-memory pair in tests) stays behind {@link ClientTransport}.
 */
export interface ClientConnection {
  /** Writes an already-encoded frame: JSON text, or the bytes of a binary frame. */
  write(frame: string | Uint8Array): void
  /** Closes the connection; `close` is reported once, as for any other end, before this returns. */
  close(): void
}

/**
 * Callbacks of one connection attempt. Called asynchronously, as a socket's events are, except
 * `close` after the client's own `close()`.
 */
export interface ClientConnectionHandlers {
  /** The socket connected. */
  open(): void
  /** Bytes the server sent (text from the in-memory transport, taken as UTF-8). */
  data(chunk: string | Uint8Array): void
  /** The connection ended or never opened. Called exactly once. */
  close(error?: Error): void
}

/** Opens one connection attempt to `path`: the seam between the client and its transport. */
export type ClientTransport = (path: string, handlers: ClientConnectionHandlers) => ClientConnection
