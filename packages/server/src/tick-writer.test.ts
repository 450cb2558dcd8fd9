import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server, type Socket, connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { TickWriter } from './tick-writer.js'

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
    expect(count * chunk.length).toBeGreaterThanOrEqual(writing.writableHighWaterMark)
    await vi.waitFor(() => expect(drained).toHaveBeenCalledTimes(1))
    expect(writer.bufferedBytes).toBe(0)
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
