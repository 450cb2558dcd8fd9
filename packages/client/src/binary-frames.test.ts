import { BINARY_MIN_BYTES, ServerMessageType, encodeBinaryFrame } from '@ipc-state/protocol/wire'
import { describe, expect, it } from 'vitest'
import { createTestServer } from '../test/test-server.js'

const large = 'ğ'.repeat(BINARY_MIN_BYTES)

/** A test server that takes binary frames. */
function binaryServer() {
  const server = createTestServer()
  server.binary = true
  return server
}

describe('binary frames', () => {
  it('offers them in its hello, unless told not to', async () => {
    const server = createTestServer()
    await using offering = await server.connect()
    expect(server.peer.received[0]).toMatchObject({ type: 'hello', data: { binary: true } })
    await using plain = await server.connect({ binaryFrames: false })
    expect(server.peer.received[0]?.type === 'hello' && 'binary' in server.peer.received[0].data).toBe(false)
    await offering.close()
    await plain.close()
  })

  it('sends a large call as a binary frame once the server took them, and a small one as JSON text', async () => {
    const server = binaryServer()
    await using client = await server.connect()
    expect(await client.actions.push(large)).toBe(1)
    expect(server.peer.binaryFrames).toBe(1)
    expect(await client.actions.increment(1)).toBe(1)
    expect(server.peer.binaryFrames).toBe(1)
    expect(server.state.list).toEqual([large])
  })

  it('sends only JSON text to a server that did not take them', async () => {
    const server = createTestServer()
    await using client = await server.connect()
    expect(await client.actions.push(large)).toBe(1)
    expect(server.peer.binaryFrames).toBe(0)
  })

  it('reads a snapshot that arrives as a binary frame, split at any byte', async () => {
    const server = binaryServer()
    server.state.list = [large]
    await using client = await server.connect()
    const id = 1_000
    server.intercept = (message, peer) => {
      if (message.type !== 'state/get') return false
      const frame = encodeBinaryFrame({
        type: ServerMessageType.Response,
        data: {
          id: message.data.id,
          result: { epoch: server.epoch, version: server.version, state: { counter: id, list: [large] } },
        },
      })!
      peer.sendRaw(frame.slice(0, 3))
      peer.sendRaw(frame.slice(3, 9_000))
      peer.sendRaw(frame.slice(9_000))
      return true
    }
    expect(await client.getState()).toEqual({ counter: id, list: [large] })
  })

  it('resends an unanswered binary call as JSON text to a server that does not take them', async () => {
    const server = binaryServer()
    await using client = await server.connect()
    const first = server.peer
    // The first server never answers the call, then goes away; the next one takes no binary frames.
    server.intercept = (message, peer) => {
      if (peer !== first || message.type !== 'action/call') return false
      server.binary = false
      peer.close()
      return true
    }
    const next = server.nextPeer()
    const call = client.actions.push(large)
    const second = await next
    expect(await call).toBe(1)
    expect(first.binaryFrames).toBe(1)
    expect(second.binaryFrames).toBe(0)
  })
})
