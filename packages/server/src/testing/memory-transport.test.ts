import { ServerMessageType, encodeServerMessage } from '@ipc-state/protocol/wire'
import { describe, expect, it } from 'vitest'
import { createMemoryTransport } from '../../test/memory-transport.js'
import { memoryTransport } from './memory-transport.js'
import type { TransportConnection } from '../transport/transport.js'

/** A transport with a recording server behind it. */
async function listening() {
  const transport = createMemoryTransport()
  const received: string[] = []
  const connections: TransportConnection[] = []
  let closes = 0
  const server = await transport.listen({
    connection(connection) {
      connections.push(connection)
      return {
        data: (bytes) => received.push(Buffer.from(bytes).toString()),
        drain() {},
        close: () => (closes += 1),
      }
    },
    error() {},
  })
  return { transport, server, received, connections, closes: () => closes }
}

const closing = (reason: string) => Buffer.from(encodeServerMessage({ type: ServerMessageType.ServerClosing, data: { reason } }))

describe('memory transport', () => {
  it('delivers what a peer writes after the current task, in order, and what it closes after that', async () => {
    const t = await listening()
    const peer = await t.transport.connect()
    peer.write('a')
    peer.write('b')
    peer.close()
    expect(t.received).toEqual([])
    await peer.closed
    expect(t.received).toEqual(['a', 'b'])
    expect(t.closes()).toBe(1)
    // Dropped once closed, as a write to a closed socket.
    peer.write('c')
    await Promise.resolve()
    expect(t.received).toEqual(['a', 'b'])
  })

  it('delivers what the server writes asynchronously, as decoded frames', async () => {
    const t = await listening()
    const peer = await t.transport.connect()
    const connection = t.connections[0]!
    const text = Buffer.concat([closing('one'), closing('two')])
    connection.write(text.subarray(0, 10))
    connection.write(text.subarray(10))
    expect(peer.messages).toEqual([])
    expect(connection.bufferedBytes).toBe(text.length)
    expect(await peer.next()).toEqual({ type: ServerMessageType.ServerClosing, data: { reason: 'one' } })
    expect(await peer.next()).toEqual({ type: ServerMessageType.ServerClosing, data: { reason: 'two' } })
    expect(connection.bufferedBytes).toBe(0)
    expect(peer.malformed).toEqual([])
  })

  it('lets bufferedBytes grow while the peer does not read, and drains it on resume', async () => {
    const t = await listening()
    const peer = await t.transport.connect()
    const connection = t.connections[0]!
    peer.pause()
    for (let i = 0; i < 10; i++) connection.write(closing(String(i)))
    await Promise.resolve()
    expect(connection.bufferedBytes).toBe(10 * Buffer.byteLength(closing('0')))
    expect(peer.messages).toEqual([])
    peer.resume()
    await peer.waitFor((m) => m.type === ServerMessageType.ServerClosing && m.data.reason === '9')
    expect(connection.bufferedBytes).toBe(0)
    expect(peer.messages).toHaveLength(10)
  })

  it('ends a connection once the peer has read what was queued; destroys it at once, dropping the rest', async () => {
    const t = await listening()
    const ended = await t.transport.connect()
    const destroyed = await t.transport.connect()
    const [toEnd, toDestroy] = t.connections
    toEnd!.write(closing('last words'))
    toEnd!.end()
    // Nothing more is read from an ended connection.
    ended.write('ignored')
    await ended.closed
    expect(ended.messages).toEqual([{ type: ServerMessageType.ServerClosing, data: { reason: 'last words' } }])
    destroyed.pause()
    toDestroy!.write(closing('lost'))
    toDestroy!.destroy()
    await destroyed.closed
    destroyed.resume()
    expect(destroyed.messages).toEqual([])
    expect(t.received).toEqual([])
    expect(t.closes()).toBe(2)
  })

  it('rejects a waiting read when the connection closes, and refuses connections once closed', async () => {
    const t = await listening()
    const peer = await t.transport.connect()
    const waiting = peer.response(1)
    peer.close()
    await expect(waiting).rejects.toThrow('The connection closed before the response to 1 arrived')
    await t.server.close()
    expect(t.transport.listening).toBe(false)
    await expect(t.transport.connect()).rejects.toThrow(/ECONNREFUSED/)
  })
})

describe('memory transport writes', () => {
  it('counts queued bytes exactly, and calls back each write once: when read, or when dropped', async () => {
    const t = await listening()
    const reader = await t.transport.connect()
    const dropper = await t.transport.connect()
    const [toReader, toDropper] = t.connections
    reader.pause()
    dropper.pause()
    const calls: string[] = []
    const wide = closing('ğğğ')
    toReader!.write(wide, () => calls.push('read'))
    toDropper!.write(wide, () => calls.push('dropped'))
    await Promise.resolve()
    expect(toReader!.bufferedBytes).toBe(wide.length)
    expect(calls).toEqual([])
    reader.resume()
    await reader.next()
    toDropper!.destroy()
    await dropper.closed
    toDropper!.write(Buffer.from('late'), () => calls.push('late'))
    await Promise.resolve()
    expect(calls).toEqual(['read', 'dropped', 'late'])
  })
})

describe('memoryTransport', () => {
  it('lets one server listen at a time, and refuses a client when none listens', async () => {
    const memory = memoryTransport({ name: 'pair' })
    expect(memory.server.name).toBe('pair')
    expect(memory.client.name).toBe('pair')
    const handlers = { connection: () => ({ data() {}, drain() {}, close() {} }), error() {} }
    const listening = await memory.server.listen(handlers)
    await expect(memory.server.listen(handlers)).rejects.toMatchObject({ code: 'ADDRESS_IN_USE' })
    await listening.close()
    const closed = new Promise<Error | undefined>((resolve) =>
      memory.client.open({ open: () => resolve(new Error('opened')), data() {}, close: resolve }),
    )
    expect(await closed).toMatchObject({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED pair' })
    // Another server may listen once the first has closed.
    await (await memory.server.listen(handlers)).close()
  })
})
