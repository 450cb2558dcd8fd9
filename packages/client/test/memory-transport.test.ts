import {
  ClientMessageType,
  FRAME_DELIMITER,
  ServerMessageType,
  encodeClientMessage,
  encodeServerMessage,
} from '@ipc-state/protocol/wire'
import { describe, expect, it, vi } from 'vitest'
import { createMemoryTransport } from './memory-transport.js'

const handlers = () => ({ open: vi.fn(), data: vi.fn(), close: vi.fn() })
const hello = encodeClientMessage({
  type: ClientMessageType.Hello,
  data: { id: 1, protocol: 1, clientId: 'c', instanceId: 'i', replica: true },
})

describe('createMemoryTransport', () => {
  it('shows each attempt to the test, and delivers open, data and close asynchronously and in order', async () => {
    const memory = createMemoryTransport()
    const client = handlers()
    const connection = memory.open('/tmp/a', client)
    const attempt = await memory.nextAttempt()
    expect(attempt.path).toBe('/tmp/a')
    const peer = attempt.accept()
    peer.send({ type: ServerMessageType.ServerClosing, data: { reason: 'bye' } })
    peer.sendRaw('not json')
    expect(client.open).not.toHaveBeenCalled()
    await vi.waitFor(() => expect(client.data).toHaveBeenCalledTimes(2))
    expect(client.open).toHaveBeenCalledOnce()
    expect(client.open.mock.invocationCallOrder[0]).toBeLessThan(client.data.mock.invocationCallOrder[0]!)
    expect(client.data.mock.calls).toEqual([
      [Buffer.from(encodeServerMessage({ type: ServerMessageType.ServerClosing, data: { reason: 'bye' } }))],
      [Buffer.from('not json')],
    ])

    // The client's frames reach the server decoded, even when split across writes.
    connection.write(Buffer.from(hello.slice(0, 10)))
    connection.write(Buffer.from(hello.slice(10)))
    expect(await peer.next()).toMatchObject({ type: 'hello', data: { id: 1, clientId: 'c' } })
    expect(peer.received).toHaveLength(1)

    peer.close(new Error('gone'))
    peer.send({ type: ServerMessageType.ServerClosing, data: { reason: 'too late' } })
    await peer.closed
    expect(client.close).toHaveBeenCalledExactlyOnceWith(new Error('gone'))
    expect(client.data).toHaveBeenCalledTimes(2)
    await expect(peer.next()).rejects.toThrow(/ended/)
  })

  it('refuses an attempt with an error, or leaves it hanging', async () => {
    const memory = createMemoryTransport({ onAttempt: (attempt) => attempt.path.endsWith('refused') && attempt.refuse() })
    const refused = handlers()
    const hanging = handlers()
    memory.open('/tmp/refused', refused)
    memory.open('/tmp/hanging', hanging)
    await vi.waitFor(() => expect(refused.close).toHaveBeenCalledOnce())
    expect(refused.close.mock.calls[0]![0]).toBeInstanceOf(Error)
    expect((refused.close.mock.calls[0]![0] as Error).message).toMatch(/ECONNREFUSED/)
    expect(refused.open).not.toHaveBeenCalled()
    expect(hanging.open).not.toHaveBeenCalled()
    expect(hanging.close).not.toHaveBeenCalled()
    expect(memory.attempts.map((attempt) => attempt.path)).toEqual(['/tmp/refused', '/tmp/hanging'])
  })

  it("reports the client's own close before close() returns, once, and tells the server", async () => {
    const memory = createMemoryTransport()
    const client = handlers()
    const connection = memory.open('/tmp/a', client)
    const peer = (await memory.nextAttempt()).accept()
    await vi.waitFor(() => expect(client.open).toHaveBeenCalled())
    connection.close()
    expect(client.close).toHaveBeenCalledExactlyOnceWith(undefined)
    connection.close()
    peer.close()
    peer.sendRaw(`{}${FRAME_DELIMITER}`)
    await peer.closed
    expect(peer.ended).toBe(true)
    await Promise.resolve()
    expect(client.close).toHaveBeenCalledOnce()
    expect(client.data).not.toHaveBeenCalled()
  })

  it('lets a test answer a frame the client wrote that does not decode', async () => {
    const memory = createMemoryTransport()
    const connection = memory.open('/tmp/a', handlers())
    const peer = (await memory.nextAttempt()).accept()
    connection.write(Buffer.from(`{"type":"nope"}${FRAME_DELIMITER}`))
    await expect(peer.next()).rejects.toMatchObject({ code: 'BAD_REQUEST' })
  })
})
