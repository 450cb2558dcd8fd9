// The WebSocket listener in a server process of its own, against a Node client and hostile peers written by hand.
import type { Socket } from 'node:net'
import { connect, type IpcStateClient, webSocketTransport, type WebSocketConstructor } from '@ipc-state/client'
import { ClientMessageType, encodeClientMessage, PROTOCOL_VERSION, writeBinaryHeader } from '@ipc-state/protocol/wire'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { WebSocket } from 'ws'
import { maskedFrame, Opcode, rightHeaders, upgrade, upgradeStatus } from '../src/peers/web-socket-peer.js'
import { ask, type FixtureProcess, fixture, startFixture } from '../src/processes/processes.js'
import type { testStore } from '../src/stores/test-store.js'

const MAX_FRAME_BYTES = 64 * 1024
const MAX_BUFFERED_BYTES = 1024 * 1024
const HANDSHAKE_TIMEOUT = 3_000

interface WebListener {
  url: string
  token: string
  port: number
  origin: string
}

/** The events of a connection the listener closed: the close frame's code, when it sent one. */
function closeCode(socket: Socket): Promise<number | undefined> {
  return new Promise((resolve) => {
    let bytes = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      bytes = Buffer.concat([bytes, chunk])
    })
    socket.on('error', () => {
      // A reset after the close frame is how some closes end.
    })
    socket.once('close', () => {
      // The server's close frame is unmasked: 0x88, its length, then the code.
      const at = bytes.indexOf(0x88)
      resolve(at === -1 || bytes.length < at + 4 ? undefined : bytes.readUInt16BE(at + 2))
    })
    socket.resume()
  })
}

const hello = (clientId: string) =>
  encodeClientMessage({
    type: ClientMessageType.Hello,
    data: { id: 0, protocol: PROTOCOL_VERSION, clientId, replica: false },
  })

describe('a WebSocket listener in a server process of its own', () => {
  let server: FixtureProcess
  let web: WebListener
  const clients: IpcStateClient<typeof testStore>[] = []
  const connections = async () => (await ask(server, 'stats')).connections as number
  const open = async (clientId: string) => {
    const client = await connect<typeof testStore>({
      transport: webSocketTransport({ url: web.url, token: web.token, WebSocket: WebSocket as unknown as WebSocketConstructor }),
      clientId,
    })
    clients.push(client)
    return client
  }

  beforeAll(async () => {
    server = startFixture(fixture('servers/web-socket-server.ts'), {
      env: {
        IPC_STATE_MAX_FRAME_BYTES: String(MAX_FRAME_BYTES),
        IPC_STATE_MAX_BUFFERED_BYTES: String(MAX_BUFFERED_BYTES),
        IPC_STATE_HANDSHAKE_TIMEOUT: String(HANDSHAKE_TIMEOUT),
      },
    })
    web = (await server.waitFor('web')) as unknown as WebListener
    await server.waitFor('ready')
  })
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()))
    await server?.[Symbol.asyncDispose]()
  })

  it('listens on 127.0.0.1 with a 43-character token, and serves Node clients: calls, and replicas that follow', async () => {
    expect(web.url).toBe(`ws://127.0.0.1:${web.port}/`)
    expect(web.token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const [first, second] = await Promise.all([open('ws-first'), open('ws-second')])
    expect(first!.path).toBe(web.url)
    expect(await first!.actions.increment(2)).toBe(2)
    await second!.waitFor((state) => state.counter === 2)
    expect(await second!.actions.addMessage('over a WebSocket')).toBe(1)
    await first!.waitFor((state) => state.messages.some((message) => message.text === 'over a WebSocket'))
  })

  it('refuses before upgrading: another Host (403), a foreign Origin (403), another path (404), no or a wrong token (401)', async () => {
    const right = rightHeaders(web.port, web.token)
    const wrong = rightHeaders(web.port, `${web.token.slice(0, -1)}${web.token.endsWith('A') ? 'B' : 'A'}`)
    expect(await upgradeStatus(web.port, right)).toBe(101)
    expect(await upgradeStatus(web.port, { ...right, host: 'attacker.example' })).toBe(403)
    expect(await upgradeStatus(web.port, { ...right, host: `attacker.example:${web.port}` })).toBe(403)
    expect(await upgradeStatus(web.port, { ...right, host: undefined })).toBe(403)
    expect(await upgradeStatus(web.port, { ...right, origin: 'http://attacker.example' })).toBe(403)
    expect(await upgradeStatus(web.port, { ...right, origin: 'null' })).toBe(403)
    expect(await upgradeStatus(web.port, { ...right, origin: web.origin })).toBe(101)
    expect(await upgradeStatus(web.port, { ...right, path: '/other' })).toBe(404)
    expect(await upgradeStatus(web.port, { ...right, protocols: undefined })).toBe(401)
    expect(await upgradeStatus(web.port, { ...right, protocols: 'ipc-state' })).toBe(401)
    expect(await upgradeStatus(web.port, wrong)).toBe(401)
    // The token as a query parameter is no token: it would end up in logs.
    expect(await upgradeStatus(web.port, { ...right, protocols: 'ipc-state', path: `/?token=${web.token}` })).toBe(401)
  })

  it('answers a flood of 400 requests without the token with 401 each, lets none reach the server, and keeps serving', async () => {
    const before = await connections()
    const statuses = await Promise.all(
      Array.from({ length: 400 }, () => upgradeStatus(web.port, { ...rightHeaders(web.port, web.token), protocols: 'ipc-state' })),
    )
    expect(new Set(statuses)).toEqual(new Set([401]))
    expect(await connections()).toBe(before)
    const client = await open('after-flood')
    expect(await client.actions.increment(1)).toBeGreaterThan(0)
  })

  it('closes a connection whose message passes one frame before reading it (1009), and one that sends text (1003)', async () => {
    const big = await upgrade(web.port, rightHeaders(web.port, web.token))
    const bigClosed = closeCode(big.socket)
    big.socket.write(maskedFrame(Opcode.binary, Buffer.alloc(MAX_FRAME_BYTES + 64)))
    expect(await bigClosed).toBe(1009)

    const text = await upgrade(web.port, rightHeaders(web.port, web.token))
    const textClosed = closeCode(text.socket)
    text.socket.write(maskedFrame(Opcode.text, Buffer.from(hello('text-peer'))))
    expect(await textClosed).toBe(1003)
    const client = await open('after-big-and-text')
    expect(await client.actions.increment(1)).toBeGreaterThan(0)
  })

  it('applies the server’s frame limit across messages: a binary frame announced past it closes the connection', async () => {
    const peer = await upgrade(web.port, rightHeaders(web.port, web.token))
    const closed = closeCode(peer.socket)
    const header = new Uint8Array(5)
    writeBinaryHeader(header, 0, 10 * 1024 * 1024)
    // Each message is small; the frame they start is not.
    peer.socket.write(maskedFrame(Opcode.binary, header))
    peer.socket.write(maskedFrame(Opcode.binary, Buffer.alloc(1024)))
    await closed
    await vi.waitFor(async () => expect(await connections()).toBe(clients.length), { timeout: 15_000 })
  })

  it('closes a connection that shows the token but never says hello, at the handshake deadline', async () => {
    const peer = await upgrade(web.port, rightHeaders(web.port, web.token))
    expect(peer.status).toBe(101)
    const closed = closeCode(peer.socket)
    await vi.waitFor(async () => expect(await connections()).toBe(clients.length + 1), { timeout: 15_000 })
    await closed
    await vi.waitFor(async () => expect(await connections()).toBe(clients.length), { timeout: 15_000 })
  })

  it('cuts a replica that never reads once the changes waiting for it pass maxBufferedBytes, while another client keeps working', async () => {
    const writer = await open('beside-a-slow-reader')
    const peer = await upgrade(web.port, rightHeaders(web.port, web.token))
    // Paused: the socket's buffers fill, then the transport's, then the server's queue, which is capped.
    peer.socket.pause()
    peer.socket.on('error', () => {})
    const helloReplica = encodeClientMessage({
      type: ClientMessageType.Hello,
      data: { id: 0, protocol: PROTOCOL_VERSION, clientId: 'never-reads', replica: true },
    })
    peer.socket.write(maskedFrame(Opcode.binary, Buffer.from(helloReplica)))
    await vi.waitFor(async () => expect(await connections()).toBe(clients.length + 1), { timeout: 15_000 })
    // Changes of about 1 kB, four in flight, until the peer is cut (or far past any buffer's size).
    let sent = 0
    let cut = false
    const stream = async () => {
      while (!cut && sent < 40_000) {
        sent++
        await writer.actions.addMessage(`${sent}`.padEnd(1000, 'm'))
        if (sent % 500 === 0) cut = (await connections()) === clients.length
      }
    }
    await Promise.all([stream(), stream(), stream(), stream()])
    expect(cut).toBe(true)
    expect(await writer.actions.increment(1)).toBeGreaterThan(0)
    peer.socket.destroy()
  })
})
