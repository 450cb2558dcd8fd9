// Lets a socket that node-ipc set to decode text hand over its bytes as they are.

/** What {@link readAsBytes} needs of a `node:net` Socket (named structurally: this package imports no Node module). */
export interface DecodingSocket {
  readonly readableEncoding: string | null
}

/**
 * Undoes the `setEncoding('latin1')` node-ipc applies to every socket, so that the socket hands over
 * its bytes as they are, without a decode and a copy per read. Should a Node.js version not let it
 * (the stream's state is not public API), the socket still decodes as latin1, one character per
 * byte, which the caller turns back into the same bytes.
 */
export function readAsBytes(socket: DecodingSocket): void {
  const state = (socket as unknown as { _readableState?: { decoder: unknown; encoding: unknown } })._readableState
  if (state === undefined || socket.readableEncoding !== 'latin1') return
  state.decoder = null
  state.encoding = null
}
