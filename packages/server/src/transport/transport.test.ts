import { describe, expect, it, vi } from 'vitest'
import { combineTransports, type Transport, type TransportHandlers } from './transport.js'

const handlers: TransportHandlers = {
  connection: () => ({ data() {}, drain() {}, close() {} }),
  error() {},
}

/** A transport that records its listening and closing, or fails to listen. */
function recorded(name: string, fails = false) {
  const close = vi.fn(async () => {})
  const transport: Transport = {
    name,
    listen: vi.fn(async () => {
      if (fails) throw new Error(`${name} cannot listen`)
      return { close }
    }),
  }
  return { transport, close }
}

describe('combineTransports', () => {
  it('listens on each with the same handlers, is named after the first, and closes them all', async () => {
    const a = recorded('a')
    const b = recorded('b')
    const both = combineTransports([a.transport, b.transport])
    expect(both.name).toBe('a')
    const server = await both.listen(handlers)
    expect(a.transport.listen).toHaveBeenCalledWith(handlers)
    expect(b.transport.listen).toHaveBeenCalledWith(handlers)
    await server.close()
    expect(a.close).toHaveBeenCalledTimes(1)
    expect(b.close).toHaveBeenCalledTimes(1)
    expect(combineTransports([a.transport])).toBe(a.transport)
  })

  it('closes those already listening when one cannot, and rejects with its error', async () => {
    const a = recorded('a')
    const b = recorded('b', true)
    const c = recorded('c')
    await expect(combineTransports([a.transport, b.transport, c.transport]).listen(handlers)).rejects.toThrow('b cannot listen')
    expect(a.close).toHaveBeenCalledTimes(1)
    expect(c.transport.listen).not.toHaveBeenCalled()
  })
})
