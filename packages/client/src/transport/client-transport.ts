// The seam between the client's core and whatever carries its bytes: a Unix socket through node-ipc
// by default (ipc-transport.ts), or any transport given as `connect({ transport })`.

/**
 * One connection, as the client sees it.
 *
 * The client's core writes each frame as soon as it is ready, several in one tick when several
 * are, and never gathers them itself: gathering writes into one system call is the transport's
 * job, done in one place. The Unix-socket transport sends all a tick wrote in one system call; a
 * transport whose writes cost little (a message port, memory) may pass each on as it comes.
 */
export interface ClientConnection {
  /**
   * Sends bytes to the server, in order: whole frames, as the client encoded them. The client
   * writes only between `open` and `close`, and never changes bytes it wrote. Nothing is owed back:
   * a connection that cannot deliver closes, reporting `close(error)`.
   */
  write(bytes: Uint8Array): void
  /**
   * Sends one whole JSON text frame, as the client wrote it (delimiter included), in order with
   * what `write` sends. Optional: without it the client encodes the text as UTF-8 and calls `write`.
   * A transport that gathers a tick's writes can take text instead, and encode all of it at once.
   */
  writeText?(text: string): void
  /**
   * Closes the connection. `close` is reported to the handlers once, as for any other end, before
   * this returns; a second call does nothing.
   */
  close(): void
}

/**
 * Callbacks of one connection attempt. The transport calls them from its own tasks, never from
 * inside `open` or `write`, except `close` from inside the client's own `close()`.
 */
export interface ClientConnectionHandlers {
  /** The connection is open: the client says hello, then writes its calls. */
  open(): void
  /**
   * Bytes the server sent, in order, cut anywhere: the client finds the frames in them. The client
   * does not keep `chunk` after the call returns.
   */
  data(chunk: Uint8Array): void
  /**
   * The connection ended, or never opened: reported exactly once, and nothing after it. `error`
   * says why, when it failed; the client then retries with backoff, or gives up and reports it as
   * the `cause` of its error.
   */
  close(error?: Error): void
}

/**
 * What the client needs from a transport: a way to open one connection to the server. Give one
 * to `connect({ transport })`; the client opens a new connection after each one it lost, and
 * `@ipc-state/server/testing` has one in memory.
 */
export interface ClientTransport {
  /**
   * Where the server is, as people read it (a path, a URL): the client's `path`, its errors and its
   * log lines show it.
   * @default 'custom transport'
   */
  readonly name?: string
  /**
   * Starts one connection attempt and reports how it goes to `handlers`: `open`, then `data` as it
   * comes, and `close` once. An attempt that fails reports `close(error)` without `open`; should
   * `open` throw instead, the client counts that as a failed attempt too.
   */
  open(handlers: ClientConnectionHandlers): ClientConnection
}
