// Peers of a WebSocket listener written by hand on `node:net`: upgrade requests with any headers, and masked frames of any kind.
import { randomBytes } from 'node:crypto'
import { connect as netConnect, type Socket } from 'node:net'
import { webSocketProtocols } from '@ipc-state/protocol/wire'

/** The headers of an upgrade request, each left out when `undefined`. */
export interface UpgradeHeaders {
  host?: string
  origin?: string
  protocols?: string
  path?: string
}

/** The status line's code a listener answers an upgrade request with (101 when it upgraded). */
export async function upgradeStatus(port: number, headers: UpgradeHeaders): Promise<number> {
  const { socket, status } = await upgrade(port, headers)
  socket.destroy()
  return status
}

/** The headers of a request that should be let in: our Host, no Origin, the token. */
export function rightHeaders(port: number, token: string): UpgradeHeaders {
  return { host: `127.0.0.1:${port}`, protocols: webSocketProtocols(token).join(', ') }
}

/**
 * Sends an upgrade request and resolves with the socket and the status the listener answered,
 * once its answer's headers are in. Whatever came after them stays unread in the socket.
 */
export function upgrade(port: number, headers: UpgradeHeaders): Promise<{ socket: Socket; status: number }> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, '127.0.0.1')
    const lines = [
      `GET ${headers.path ?? '/'} HTTP/1.1`,
      ...(headers.host === undefined ? [] : [`Host: ${headers.host}`]),
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
      'Sec-WebSocket-Version: 13',
      ...(headers.origin === undefined ? [] : [`Origin: ${headers.origin}`]),
      ...(headers.protocols === undefined ? [] : [`Sec-WebSocket-Protocol: ${headers.protocols}`]),
    ]
    let head = Buffer.alloc(0)
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk])
      const end = head.indexOf('\r\n\r\n')
      if (end === -1) return
      socket.off('data', onData)
      socket.pause()
      const rest = head.subarray(end + 4)
      if (rest.length > 0) socket.unshift(rest)
      resolve({ socket, status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head.toString('latin1'))?.[1] ?? 0) })
    }
    socket.on('data', onData)
    socket.once('error', reject)
    socket.once('close', () => reject(new Error('closed before answering the upgrade')))
    socket.write(`${lines.join('\r\n')}\r\n\r\n`)
  })
}

/** WebSocket opcodes a hostile peer sends. */
export const Opcode = { text: 0x1, binary: 0x2 } as const

/** One final, masked WebSocket frame, as a client must send it. */
export function maskedFrame(opcode: number, payload: Uint8Array): Buffer {
  const length = payload.length
  const header =
    length < 126
      ? Buffer.from([0x80 | opcode, 0x80 | length])
      : length < 65_536
        ? Buffer.from([0x80 | opcode, 0x80 | 126, length >> 8, length & 0xff])
        : Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | 127]), bigEndian64(length)])
  const mask = randomBytes(4)
  const masked = Buffer.alloc(length)
  for (let i = 0; i < length; i++) masked[i] = payload[i]! ^ mask[i & 3]!
  return Buffer.concat([header, mask, masked])
}

function bigEndian64(value: number): Buffer {
  const bytes = Buffer.alloc(8)
  bytes.writeBigUInt64BE(BigInt(value))
  return bytes
}
