import { EventEmitter } from 'node:events'
import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { describe, expect, it, vi } from 'vitest'
import { messagePortTransport, PORT_HIGH_WATER_BYTES, type ServerMessagePort } from './message-port-transport.js'
import type { TransportConnection, TransportHandlers } from './transport.js'

/** A transport listening with a recording server behind it, and a way to open raw peers. */
async function listening() {
  const transport = messagePortTransport({ name: 'ports' })
  const received: string[] = []
  const connections: TransportConnection[] = []
  const errors: (Error & { code?: string })[] = []
  const drains = vi.fn()
  let closes = 0
  const handlers: TransportHandlers = {
    connection(connection) {
      connections.push(connection)
      return {
        data: (bytes) => received.push(Buffer.from(bytes).toString()),
        drain: drains,
        close: () => (closes += 1),
      }
    },
    error: (error) => errors.push(error),
  }
  const server = await transport.listen(handlers)
  /** A raw peer on a fresh channel: what it receives, in order. */
  const peer = () => {
    const { port1, port2 } = new MessageChannel()
    const messages: unknown[] = []
    const closed = new Promise<void>((resolve) => port2.once('close', () => resolve()))
    port2.on('message', (message) => messages.push(message))
    transport.accept(port1)
    return { port: port2, messages, closed }
  }
  return { transport, server, received, connections, errors, drains, closes: () => closes, peer }
}

const bytesOf = (text: string) => new Uint8Array(Buffer.from(text)).buffer
const text = (message: unknown) => Buffer.from(message as ArrayBuffer).toString()

describe('the MessagePort transport (server side)', () => {
  it('passes on frames a peer posts as buffers, in order, and posts what the server writes as buffers the peer owns', async () => {
    const t = await listening()
    const p = t.peer()
    await vi.waitFor(() => expect(t.connections).toHaveLength(1))
    p.port.postMessage(bytesOf('a'))
    p.port.postMessage(bytesOf('b'))
    await vi.waitFor(() => expect(t.received).toEqual(['a', 'b']))
    // Bytes that sit inside a larger buffer, as pooled bytes do: the peer gets exactly them.
    const pooled = Buffer.from('xxhelloxx').subarray(2, 7)
    const written = vi.fn()
    expect(t.connections[0]!.write(pooled, written)).toBe(true)
    expect(written).not.toHaveBeenCalled()
    await vi.waitFor(() => expect(p.messages).toHaveLength(1))
    expect(p.messages[0]).toBeInstanceOf(ArrayBuffer)
    expect(text(p.messages[0])).toBe('hello')
    expect(written).toHaveBeenCalledTimes(1)
    // The server's own bytes are untouched (not transferred away).
    expect(pooled.toString()).toBe('hello')
    p.port.close()
    await vi.waitFor(() => expect(t.closes()).toBe(1))
  })

  it('counts what the peer has not acknowledged, says stop at the mark, and drains once the peer acknowledges', async () => {
    const t = await listening()
    const p = t.peer()
    await vi.waitFor(() => expect(t.connections).toHaveLength(1))
    const connection = t.connections[0]!
    const chunk = new Uint8Array(1024)
    let writes = 0
    while (connection.write(chunk)) writes += 1
    expect((writes + 1) * chunk.length).toBe(PORT_HIGH_WATER_BYTES)
    expect(connection.bufferedBytes).toBe(PORT_HIGH_WATER_BYTES)
    await vi.waitFor(() => expect(p.messages).toHaveLength(writes + 1))
    // Read but not said: still counted.
    expect(t.drains).not.toHaveBeenCalled()
    p.port.postMessage(4 * 1024)
    await vi.waitFor(() => expect(connection.bufferedBytes).toBe(PORT_HIGH_WATER_BYTES - 4 * 1024))
    expect(t.drains).toHaveBeenCalledTimes(1)
  })

  it('cuts off a peer that posts anything but bytes, a count and null, or acknowledges more than it was sent', async () => {
    for (const hostile of ['text', { frame: 1 }, new Uint8Array([1, 2]), -1, 1.5, 10]) {
      const t = await listening()
      const p = t.peer()
      await vi.waitFor(() => expect(t.connections).toHaveLength(1))
      p.port.postMessage(hostile)
      p.port.postMessage(bytesOf('after'))
      await vi.waitFor(() => expect(t.closes()).toBe(1))
      await p.closed
      expect(t.errors.map((error) => error.code)).toEqual(['EPROTO'])
      expect(t.received).toEqual([])
    }
  })

  it('ends by posting null after what was written, and reads nothing more; the peer closing closes it', async () => {
    const t = await listening()
    const p = t.peer()
    await vi.waitFor(() => expect(t.connections).toHaveLength(1))
    const connection = t.connections[0]!
    connection.write(new Uint8Array(Buffer.from('goodbye')))
    connection.end()
    expect(connection.write(new Uint8Array(1))).toBe(false)
    p.port.postMessage(bytesOf('ignored'))
    await vi.waitFor(() => expect(p.messages).toHaveLength(2))
    expect(text(p.messages[0])).toBe('goodbye')
    expect(p.messages[1]).toBeNull()
    expect(t.closes()).toBe(0)
    p.port.close()
    await vi.waitFor(() => expect(t.closes()).toBe(1))
    expect(t.received).toEqual([])
  })

  it('reports close once, after destroy returns, and when the peer says null or its thread is gone', async () => {
    const t = await listening()
    const destroyed = t.peer()
    const goodbye = t.peer()
    await vi.waitFor(() => expect(t.connections).toHaveLength(2))
    t.connections[0]!.destroy()
    expect(t.closes()).toBe(0)
    await destroyed.closed
    goodbye.port.postMessage(null)
    await goodbye.closed
    await vi.waitFor(() => expect(t.closes()).toBe(2))
    t.connections[0]!.destroy()
    await Promise.resolve()
    expect(t.closes()).toBe(2)
  })

  it('holds ports accepted while no server listens for the next one, and closes open ones on close', async () => {
    const transport = messagePortTransport()
    expect(transport.name).toBe('message port')
    const { port1, port2 } = new MessageChannel()
    transport.accept(port1)
    const connections: TransportConnection[] = []
    const handlers: TransportHandlers = {
      connection: (connection) => {
        connections.push(connection)
        return { data() {}, drain() {}, close() {} }
      },
      error() {},
    }
    const server = await transport.listen(handlers)
    expect(connections).toHaveLength(1)
    await expect(transport.listen(handlers)).rejects.toMatchObject({ code: 'ADDRESS_IN_USE' })
    const ended: unknown[] = []
    port2.on('message', (message) => {
      ended.push(message)
      // As the client does on null: closes its end.
      if (message === null) port2.close()
    })
    await server.close()
    expect(ended).toEqual([null])
    // Listens again: a port accepted between servers waits for the next.
    const next = new MessageChannel()
    transport.accept(next.port1)
    expect(connections).toHaveLength(1)
    const again = await transport.listen(handlers)
    expect(connections).toHaveLength(2)
    next.port2.close()
    await again.close()
  })

  it('serves an Electron MessagePortMain (an emitter of { data } events that transfers only ports), posting copies', async () => {
    const t = await listening()
    const posted: { message: unknown; transfer: unknown }[] = []
    const main = Object.assign(new EventEmitter(), {
      postMessage: (message: unknown, transfer?: unknown) => posted.push({ message, transfer }),
      start() {},
      close() {
        main.emit('close')
      },
    })
    t.transport.accept(main as unknown as ServerMessagePort)
    expect(t.connections).toHaveLength(1)
    main.emit('message', { data: bytesOf('from renderer'), ports: [] })
    expect(t.received).toEqual(['from renderer'])
    t.connections[0]!.write(new Uint8Array(Buffer.from('to renderer')))
    expect(posted).toHaveLength(1)
    expect(text(posted[0]!.message)).toBe('to renderer')
    expect(posted[0]!.transfer).toBeUndefined()
    main.emit('message', { data: 'not bytes', ports: [] })
    await vi.waitFor(() => expect(t.closes()).toBe(1))
    expect(t.errors.map((error) => error.code)).toEqual(['EPROTO'])
  })

  it('refuses what is not a port', () => {
    const transport = messagePortTransport()
    expect(() => transport.accept(undefined as unknown as MessagePort)).toThrow(TypeError)
  })
})
