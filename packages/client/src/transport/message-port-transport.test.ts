import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { describe, expect, it, vi } from 'vitest'
import { ACKNOWLEDGE_BYTES, messagePortTransport } from './message-port-transport.js'
import type { ClientConnectionHandlers } from './client-transport.js'

/** Handlers that record what the connection reports. */
function recording() {
  const events: string[] = []
  const chunks: string[] = []
  let closedWith: Error | undefined | null = null
  const handlers: ClientConnectionHandlers = {
    open: () => events.push('open'),
    data: (chunk) => chunks.push(Buffer.from(chunk).toString()),
    close: (error) => {
      events.push('close')
      closedWith = error
    },
  }
  return { handlers, events, chunks, closedWith: () => closedWith }
}

/** A channel whose server end records what the client posts. */
function channel() {
  const { port1: server, port2: client } = new MessageChannel()
  const posted: unknown[] = []
  server.on('message', (message) => posted.push(message))
  return { server, client, posted }
}

const bytesOf = (text: string) => new Uint8Array(Buffer.from(text)).buffer

describe('the MessagePort transport (client side)', () => {
  it('opens once openPort gives a port, posts each write as a buffer of its own, and passes on what comes', async () => {
    const c = channel()
    const r = recording()
    const transport = messagePortTransport({ openPort: async () => c.client })
    expect(transport.name).toBe('message port')
    const connection = transport.open(r.handlers)
    expect(r.events).toEqual([])
    await vi.waitFor(() => expect(r.events).toEqual(['open']))
    const pooled = Buffer.from('..frame..').subarray(2, 7)
    connection.write(pooled)
    await vi.waitFor(() => expect(c.posted).toHaveLength(1))
    expect(c.posted[0]).toBeInstanceOf(ArrayBuffer)
    expect(Buffer.from(c.posted[0] as ArrayBuffer).toString()).toBe('frame')
    // What the client wrote is still its own: it may resend it after a reconnect.
    expect(pooled.toString()).toBe('frame')
    c.server.postMessage(bytesOf('changed'))
    await vi.waitFor(() => expect(r.chunks).toEqual(['changed']))
    connection.close()
    expect(r.events).toEqual(['open', 'close'])
    expect(r.closedWith()).toBeUndefined()
    // The server hears that the client is gone, though a web port reports no close of its own.
    await vi.waitFor(() => expect(c.posted.at(-1)).toBeNull())
  })

  it('acknowledges what it has read once 8 KiB have come in, so the server may write more', async () => {
    const c = channel()
    const r = recording()
    messagePortTransport({ openPort: () => c.client }).open(r.handlers)
    await vi.waitFor(() => expect(r.events).toEqual(['open']))
    const chunk = 1000
    const count = Math.ceil(ACKNOWLEDGE_BYTES / chunk)
    for (let i = 0; i < count - 1; i++) c.server.postMessage(new ArrayBuffer(chunk))
    await vi.waitFor(() => expect(r.chunks).toHaveLength(count - 1))
    expect(c.posted).toEqual([])
    c.server.postMessage(new ArrayBuffer(chunk))
    await vi.waitFor(() => expect(c.posted).toEqual([count * chunk]))
  })

  it('closes without an error on the server’s null, after what came before it', async () => {
    const c = channel()
    const r = recording()
    messagePortTransport({ openPort: () => c.client }).open(r.handlers)
    await vi.waitFor(() => expect(r.events).toEqual(['open']))
    c.server.postMessage(bytesOf('last'))
    c.server.postMessage(null)
    await vi.waitFor(() => expect(r.events).toEqual(['open', 'close']))
    expect(r.chunks).toEqual(['last'])
    expect(r.closedWith()).toBeUndefined()
  })

  it('closes with an error when the server’s end closes unannounced (its thread gone) or sends what is not bytes', async () => {
    const gone = channel()
    const r = recording()
    messagePortTransport({ openPort: () => gone.client }).open(r.handlers)
    await vi.waitFor(() => expect(r.events).toEqual(['open']))
    gone.server.close()
    await vi.waitFor(() => expect(r.events).toEqual(['open', 'close']))
    expect(r.closedWith()).toMatchObject({ code: 'ECONNRESET' })

    const hostile = channel()
    const h = recording()
    messagePortTransport({ openPort: () => hostile.client }).open(h.handlers)
    await vi.waitFor(() => expect(h.events).toEqual(['open']))
    hostile.server.postMessage({ not: 'bytes' })
    await vi.waitFor(() => expect(h.events).toEqual(['open', 'close']))
    expect(h.closedWith()).toMatchObject({ code: 'EPROTO' })
  })

  it('fails an attempt whose openPort rejects or gives no port, without opening', async () => {
    for (const openPort of [
      () => Promise.reject(new Error('no parent')),
      () => {
        throw new Error('no parent')
      },
      () => 'not a port' as unknown as MessagePort,
    ]) {
      const r = recording()
      messagePortTransport({ openPort }).open(r.handlers)
      await vi.waitFor(() => expect(r.events).toEqual(['close']))
      expect(r.closedWith()).toBeInstanceOf(Error)
    }
    expect(() => messagePortTransport({ openPort: 'nope' as never })).toThrow(TypeError)
  })

  it('closes a port that arrives after the attempt was closed', async () => {
    const c = channel()
    const serverClosed = new Promise<void>((resolve) => c.server.once('close', () => resolve()))
    let give: ((port: MessagePort) => void) | undefined
    const r = recording()
    const connection = messagePortTransport({ openPort: () => new Promise<MessagePort>((resolve) => (give = resolve)) }).open(
      r.handlers,
    )
    await vi.waitFor(() => expect(give).toBeDefined())
    connection.close()
    expect(r.events).toEqual(['close'])
    give!(c.client)
    await serverClosed
    expect(r.events).toEqual(['close'])
  })
})
