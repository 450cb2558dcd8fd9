// Newline-delimited JSON over a socket, for the raw `node:net` side: JSON never contains a raw
// newline, so a newline ends each message.
import type { Socket } from 'node:net'

/** Calls `onMessage` with every JSON message that arrives on `socket`. */
export function readJsonLines(socket: Socket, onMessage: (message: any) => void): void {
  let buffered = ''
  socket.setEncoding('utf8')
  socket.on('data', (chunk: string) => {
    let start = 0
    for (let end = chunk.indexOf('\n'); end !== -1; end = chunk.indexOf('\n', start)) {
      onMessage(JSON.parse(buffered + chunk.slice(start, end)))
      buffered = ''
      start = end + 1
    }
    buffered += chunk.slice(start)
  })
}

/** Writes one JSON message. */
export function writeJsonLine(socket: Socket, message: unknown): void {
  socket.write(`${JSON.stringify(message)}\n`)
}
