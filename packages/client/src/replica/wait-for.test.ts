import { ErrorCode, IpcStateError } from '@ipc-state/protocol'
import { describe, expect, it, vi } from 'vitest'
import { caught, createTestServer } from '../../test/test-server.js'

describe('client.waitFor', () => {
  it('resolves at once with the state when the predicate already holds', async () => {
    const server = createTestServer()
    await using client = await server.connect()
    const predicate = vi.fn(() => true)
    expect(await client.waitFor(predicate)).toBe(client.state)
    expect(predicate).toHaveBeenCalledTimes(1)
  })

  it('checks once per change, and resolves with the first state that satisfies it', async () => {
    const server = createTestServer()
    await using client = await server.connect()
    const seen: number[] = []
    const waiting = client.waitFor((state) => {
      seen.push(state.counter)
      return state.counter >= 3
    })
    await client.actions.increment(1)
    await client.actions.increment(1)
    await client.actions.increment(1)
    await client.actions.increment(1)
    const state = await waiting
    expect(state.counter).toBe(3)
    // Once now, once per change up to the one that satisfied it, and never again after.
    expect(seen).toEqual([0, 1, 2, 3])
  })

  it('rejects with TIMEOUT when the state does not satisfy it in time, and stops checking', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    try {
      const server = createTestServer()
      await using client = await server.connect()
      const predicate = vi.fn((state: { counter: number }) => state.counter > 100)
      const waiting = caught(client.waitFor(predicate, { timeout: 1_000 }))
      await vi.advanceTimersByTimeAsync(1_000)
      const error = await waiting
      expect(error).toBeInstanceOf(IpcStateError)
      expect((error as IpcStateError).code).toBe(ErrorCode.TIMEOUT)
      expect((error as IpcStateError).message).toContain('1000 ms')
      const checks = predicate.mock.calls.length
      await client.actions.increment(1)
      expect(predicate).toHaveBeenCalledTimes(checks)
    } finally {
      vi.useRealTimers()
    }
  })

  it('rejects with ABORTED when its signal fires, carrying the reason, and with an already aborted signal', async () => {
    const server = createTestServer()
    await using client = await server.connect()
    const controller = new AbortController()
    const waiting = caught(client.waitFor(() => false, { signal: controller.signal }))
    controller.abort('enough')
    expect(await waiting).toMatchObject({ code: ErrorCode.ABORTED, cause: 'enough' })
    expect(await caught(client.waitFor(() => true, { signal: controller.signal }))).toMatchObject({ code: ErrorCode.ABORTED })
  })

  it('rejects with CLIENT_CLOSED when the client closes first, or was closed', async () => {
    const server = createTestServer()
    const client = await server.connect()
    const waiting = caught(client.waitFor(() => false))
    await client.close()
    expect(await waiting).toMatchObject({ code: ErrorCode.CLIENT_CLOSED })
    expect(await caught(client.waitFor(() => true))).toMatchObject({ code: ErrorCode.CLIENT_CLOSED })
  })

  it('rejects with what the predicate throws', async () => {
    const server = createTestServer()
    await using client = await server.connect()
    const broken = new Error('broken predicate')
    expect(
      await caught(
        client.waitFor(() => {
          throw broken
        }),
      ),
    ).toBe(broken)
    let calls = 0
    const later = caught(
      client.waitFor(() => {
        calls += 1
        if (calls > 1) throw broken
        return false
      }),
    )
    await client.actions.increment(1)
    expect(await later).toBe(broken)
  })

  it('refuses a bad predicate or timeout, and a client without a replica', async () => {
    const server = createTestServer()
    await using client = await server.connect()
    expect(await caught(client.waitFor('no' as never))).toBeInstanceOf(TypeError)
    expect(await caught(client.waitFor(() => true, { timeout: -1 }))).toBeInstanceOf(TypeError)
    await using writer = await server.connect({ replica: false })
    expect(String(await caught(writer.waitFor(() => true)))).toContain('replica: false')
  })
})
