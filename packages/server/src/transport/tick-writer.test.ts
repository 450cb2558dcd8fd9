import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type NetConnectOpts, type Server, type Socket, connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { HIGH_WATER_BYTES, TickWriter } from './tick-writer.js'

let dir: string
let server: Server
let reader: Promise<{ socket: Socket; received: () => Buffer }>
let writing: Socket

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ipcs-tick-'))
  const path = join(dir, 's')
  reader = new Promise((resolve) => {
    server = createServer((socket) => {
      const chunks: Buffer[] = []
      socket.on('data', (chunk: Buffer) => chunks.push(chunk))
      resolve({ socket, received: () => Buffer.concat(chunks) })
    })
  })
  await new Promise<void>((resolve) => server.listen(path, resolve))
  writing = connect(path)
  await new Promise((resolve) => writing.once('connect', resolve))
})
afterEach(async () => {
  writing.destroy()
  await new Promise((resolve) => server.close(resolve))
  await rm(dir, { recursive: true, force: true })
})

/** Counts the writes the socket hands to the system. */
function systemWrites(socket: Socket): () => number {
  let count = 0
  const internal = socket as unknown as Record<'_write' | '_writev', (...args: unknown[]) => unknown>
  for (const method of ['_write', '_writev'] as const) {
    const original = internal[method].bind(socket)
    internal[method] = (...args: unknown[]) => {
      count += 1
      return original(...args)
    }
  }
  return () => count
}

describe('TickWriter', () => {
  it('sends the small chunks of a tick, and a large one among them, in order, in one system write', async () => {
    const writes = systemWrites(writing)
    const writer = new TickWriter(writing, () => {})
    const written = vi.fn()
    const large = Buffer.alloc(100_000, 'L')
    writer.write(Buffer.from('a'), written)
    writer.write(Buffer.from('b'), written)
    writer.write(large, written)
    writer.write(Buffer.from('c'), written)
    expect(writer.bufferedBytes).toBe(3 + large.length)
    await vi.waitFor(() => expect(written).toHaveBeenCalledTimes(4))
    expect(writes()).toBe(1)
    const { received } = await reader
    await vi.waitFor(() => expect(received().length).toBe(3 + large.length))
    expect(received().toString('latin1')).toBe(`ab${'L'.repeat(large.length)}c`)
  })

  it('says stop past the high-water mark even while gathering, and then calls drained once the bytes are gone', async () => {
    const drained = vi.fn()
    const writer = new TickWriter(writing, drained)
    const chunk = Buffer.alloc(1024)
    let more = true
    let count = 0
    while (more) {
      more = writer.write(chunk, undefined)
      count += 1
    }
    expect(count * chunk.length).toBe(HIGH_WATER_BYTES)
    await vi.waitFor(() => expect(drained).toHaveBeenCalledTimes(1))
    expect(writer.bufferedBytes).toBe(0)
  })

  it('says stop at its own mark on a socket whose mark is higher, and drained once the peer reads', async () => {
    const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve))
    // Node takes the stream option, which its types do not list for connect; the next line checks it.
    const roomy = connect({ path: join(dir, 's'), writableHighWaterMark: 1024 * 1024 } as NetConnectOpts)
    const peer = await accepted
    peer.pause()
    expect(roomy.writableHighWaterMark).toBe(1024 * 1024)
    const drained = vi.fn()
    const writer = new TickWriter(roomy, drained)
    const chunk = Buffer.alloc(4096, 'x')
    let sent = 0
    // Past what the system takes for a peer that does not read, so bytes wait in the socket.
    while (sent < 4 * 1024 * 1024) {
      while (writer.write(chunk, undefined)) sent += chunk.length
      sent += chunk.length
      // Once the tick's bytes reach the socket: the system took them (drained), or holds no more.
      await vi.waitFor(() => expect(drained.mock.calls.length > 0 || roomy.writableLength >= HIGH_WATER_BYTES).toBe(true))
      if (drained.mock.calls.length === 0) break
      drained.mockClear()
    }
    expect(roomy.writableLength).toBeGreaterThanOrEqual(HIGH_WATER_BYTES)
    expect(writer.bufferedBytes).toBeLessThan(HIGH_WATER_BYTES + chunk.length)
    expect(drained).not.toHaveBeenCalled()
    let received = 0
    peer.on('data', (data: Buffer) => {
      received += data.length
    })
    peer.resume()
    await vi.waitFor(() => expect(drained).toHaveBeenCalledTimes(1))
    expect(writer.bufferedBytes).toBeLessThan(HIGH_WATER_BYTES)
    await vi.waitFor(() => expect(received).toBe(sent))
    roomy.destroy()
    peer.destroy()
  })

  it('writes what it gathered before ending the socket', async () => {
    const writer = new TickWriter(writing, () => {})
    writer.write(Buffer.from('last words'), undefined)
    writer.end()
    const { socket, received } = await reader
    await new Promise((resolve) => socket.once('end', resolve))
    expect(received().toString()).toBe('last words')
  })
})
