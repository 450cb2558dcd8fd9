import { ErrorCode, IpcStateError } from '@ipc-state/protocol'
import { FRAME_DELIMITER, ServerMessageType, type ActionCallRequest, type ServerMessage } from '@ipc-state/protocol/wire'
import { describe, expect, it, vi } from 'vitest'
import type { MemoryPeer } from '../../test/memory-transport.js'
import { caught, createTestServer, nextOf, type TestServer } from '../../test/test-server.js'

/** Makes the server hold every action call instead of answering it; returns the held ones. */
function holdCalls(server: TestServer): { peer: MemoryPeer; call: ActionCallRequest }[] {
  const held: { peer: MemoryPeer; call: ActionCallRequest }[] = []
  server.intercept = (message, peer) => {
    if (message.type !== 'action/call') return false
    held.push({ peer, call: message.data })
    return true
  }
  return held
}

/** Answers a held call as the server would, change first. */
function release(server: TestServer, { peer, call }: { peer: MemoryPeer; call: ActionCallRequest }): void {
  const { change, response } = server.run(peer, call)
  if (change !== undefined) server.broadcast(change)
  peer.send(response)
}

describe('the call queue', () => {
  it('numbers requests after the hello and sends them in call order, input left out when there is none', async () => {
    const server = createTestServer()
    await using client = await server.connect()
    const results = await Promise.all([client.actions.increment(), client.actions.push('a'), client.call('increment', 5)])
    expect(results).toEqual([1, 1, 6])
    const sent = server.peer.received.filter((message) => message.type === 'action/call').map((message) => message.data)
    expect(sent).toEqual([
      { id: 2, action: 'increment' },
      { id: 3, action: 'push', input: 'a' },
      { id: 4, action: 'increment', input: 5 },
    ])
  })

  it('keeps at most maxInFlight calls sent; the rest wait their turn, in order', async () => {
    const server = createTestServer()
    await using client = await server.connect({ maxInFlight: 2 })
    const held = holdCalls(server)
    const calls = ['a', 'b', 'c', 'd'].map((item) => client.actions.push(item))
    await vi.waitFor(() => expect(held).toHaveLength(2))
    // The client writes synchronously as it calls: a third call sent would have arrived with these.
    expect(server.peer.received.filter((message) => message.type === 'action/call')).toHaveLength(2)
    expect(held.map(({ call }) => call.input)).toEqual(['a', 'b'])
    release(server, held[0]!)
    await vi.waitFor(() => expect(held).toHaveLength(3))
    expect(held[2]!.call.input).toBe('c')
    for (const entry of held.slice(1)) release(server, entry)
    await vi.waitFor(() => expect(held).toHaveLength(4))
    release(server, held[3]!)
    expect(await Promise.all(calls)).toEqual([1, 2, 3, 4])
    expect(client.state.list).toEqual(['a', 'b', 'c', 'd'])
  })

  it("rejects with the server's error, as an IpcStateError with its code", async () => {
    const server = createTestServer()
    await using client = await server.connect()
    const failed = await caught(client.actions.fail())
    expect(failed).toBeInstanceOf(IpcStateError)
    expect(failed).toMatchObject({ code: ErrorCode.ACTION_FAILED, message: 'failed on purpose' })
    expect((await caught(client.call('nope' as 'fail', undefined))).code).toBe(ErrorCode.UNKNOWN_ACTION)
  })

  it('asks the server for the state with getState, and freezes the answer', async () => {
    const server = createTestServer()
    await using client = await server.connect()
    server.state.list.push('from the server')
    const state = await client.getState()
    expect(state).toEqual({ counter: 0, list: ['from the server'] })
    expect(Object.isFrozen(state.list)).toBe(true)
    expect(server.peer.received.at(-1)).toEqual({ type: 'state/get', data: { id: 2 } })
  })
})

describe('timeouts', () => {
  it("times out with the client's timeout while connected, and the client stays usable", async () => {
    const server = createTestServer()
    await using client = await server.connect({ timeout: 30 })
    holdCalls(server)
    const error = await caught(client.actions.increment())
    expect(error.code).toBe(ErrorCode.TIMEOUT)
    expect(error.message).toBe('No answer from /tmp/test.memory within 30 ms (option timeout), while connected')
    expect(error.data).toEqual({ timeout: 30, status: 'connected' })
    expect(error.cause).toBeUndefined()
    server.intercept = undefined
    expect(await client.actions.increment()).toBe(1)
  })

  it('lets one call set its own timeout, and rejects a bad one with a TypeError naming it', async () => {
    const server = createTestServer()
    await using client = await server.connect({ timeout: 60_000 })
    holdCalls(server)
    expect((await caught(client.call('increment', 1, { timeout: 20 }))).data).toMatchObject({ timeout: 20 })
    const bad = await caught(client.getState({ timeout: 0 }))
    expect(bad).toBeInstanceOf(TypeError)
    expect(bad.message).toBe('timeout must be a number of at least 1 or Infinity, got 0')
  })

  it('covers the wait for the replica to show the call, and says the server applied it', async () => {
    const server = createTestServer()
    await using client = await server.connect({ timeout: 30 })
    server.intercept = (message, peer) => {
      if (message.type !== 'action/call') return false
      peer.send(server.run(peer, message.data).response) // the change never comes
      return true
    }
    const error = await caught(client.actions.increment())
    expect(error.code).toBe(ErrorCode.TIMEOUT)
    expect(error.message).toBe(
      '/tmp/test.memory applied the call at version 1, but the replica did not show it within 30 ms (option timeout)',
    )
    expect(error.data).toEqual({ timeout: 30, status: 'connected', version: 1 })
  })

  it('says when it timed out while reconnecting, with the last connection error as cause', async () => {
    // Fake timers: on a busy machine a real 40 ms timeout could fire before the first 5 ms retry is refused.
    vi.useFakeTimers()
    try {
      const server = createTestServer({ attempt: (index) => (index === 0 ? 'accept' : 'refuse') })
      await using client = await server.connect({ timeout: 40, retryDelay: () => 5 })
      holdCalls(server)
      const pending = caught(client.actions.increment())
      await nextOf(server.peer, 'action/call')
      server.peer.close()
      await vi.advanceTimersByTimeAsync(5) // the first retry, refused
      expect(server.transport.attempts.length).toBeGreaterThanOrEqual(2)
      expect(client.status).toBe('reconnecting')
      await vi.advanceTimersByTimeAsync(35)
      const error = await pending
      expect(error.code).toBe(ErrorCode.TIMEOUT)
      expect(error.message).toBe(
        'No answer from /tmp/test.memory within 40 ms (option timeout), while reconnecting; last connection error: connect ECONNREFUSED /tmp/test.memory',
      )
      expect(error.data).toEqual({ timeout: 40, status: 'reconnecting' })
      expect(error.cause).toEqual(new Error('connect ECONNREFUSED /tmp/test.memory'))
    } finally {
      vi.useRealTimers()
    }
  })

  it('with timeout Infinity, waits for ever', async () => {
    vi.useFakeTimers()
    try {
      const server = createTestServer()
      await using client = await server.connect({ timeout: Number.POSITIVE_INFINITY })
      const held = holdCalls(server)
      const pending = client.actions.increment()
      await vi.waitFor(() => expect(held).toHaveLength(1))
      expect(vi.getTimerCount()).toBe(0)
      release(server, held[0]!)
      expect(await pending).toBe(1)
    } finally {
      vi.useRealTimers()
    }
  })
})

describe('read your own writes', () => {
  it('resolves a call only once client.state shows it', async () => {
    const server = createTestServer()
    await using client = await server.connect()
    const changes: ServerMessage[] = []
    server.intercept = (message, peer) => {
      if (message.type !== 'action/call') return false
      const { change, response } = server.run(peer, message.data)
      peer.send(response) // the answer comes before the change
      changes.push(change!)
      return true
    }
    let seen: number | undefined
    const pending = client.actions.increment(5).then((value) => {
      seen = client.state.counter
      return value
    })
    await vi.waitFor(() => expect(changes).toHaveLength(1))
    // Every delivery is a microtask: after one turn of the event loop the answer has arrived.
    await new Promise((resolve) => setImmediate(resolve))
    expect(seen).toBeUndefined()
    server.broadcast(changes[0]!)
    expect(await pending).toBe(5)
    expect(seen).toBe(5)
  })
})

describe('aborts', () => {
  it('ends only the aborted caller’s wait; an unsent aborted call is never sent', async () => {
    const server = createTestServer()
    await using client = await server.connect({ maxInFlight: 1 })
    const held = holdCalls(server)
    const controller = new AbortController()
    const first = client.actions.push('first')
    const aborted = client.call('push', 'aborted', { signal: controller.signal })
    const last = client.actions.push('last')
    controller.abort(new Error('changed my mind'))
    expect(await caught(aborted)).toMatchObject({ code: ErrorCode.ABORTED, cause: new Error('changed my mind') })
    await vi.waitFor(() => expect(held).toHaveLength(1))
    release(server, held[0]!)
    await vi.waitFor(() => expect(held).toHaveLength(2))
    release(server, held[1]!)
    expect([await first, await last]).toEqual([1, 2])
    expect(held.map(({ call }) => call.input)).toEqual(['first', 'last'])
  })

  it('rejects at once for a signal that already aborted, and sends nothing', async () => {
    const server = createTestServer()
    await using client = await server.connect()
    const error = await caught(client.call('increment', 1, { signal: AbortSignal.abort() }))
    expect(error.code).toBe(ErrorCode.ABORTED)
    await Promise.resolve()
    expect(server.peer.received.map((message) => message.type)).toEqual(['hello'])
  })
})

describe('resending after a reconnect', () => {
  it('resends every unanswered call in its original order with its ids, and not the answered ones', async () => {
    const server = createTestServer()
    await using client = await server.connect()
    const held = holdCalls(server)
    const calls = ['a', 'b', 'c', 'd'].map((item) => client.actions.push(item))
    await vi.waitFor(() => expect(held).toHaveLength(4))
    release(server, held[1]!) // b alone is answered, and applied first
    const first = server.peer
    const next = server.nextPeer()
    first.close()
    server.intercept = undefined
    const second = await next
    await vi.waitFor(() => expect(second.received.filter((message) => message.type === 'action/call')).toHaveLength(3))
    const resent = second.received.flatMap((message) => (message.type === 'action/call' ? [message.data] : []))
    expect(resent.map(({ id, input }) => [id, input])).toEqual([
      [held[0]!.call.id, 'a'],
      [held[2]!.call.id, 'c'],
      [held[3]!.call.id, 'd'],
    ])
    expect(await Promise.all(calls)).toEqual([2, 1, 3, 4])
    expect(client.state.list).toEqual(['b', 'a', 'c', 'd'])
    expect(server.applied).toHaveLength(4)
  })

  it('does not apply twice a call the server applied before the connection dropped', async () => {
    const server = createTestServer()
    await using client = await server.connect()
    server.intercept = (message, peer) => {
      if (message.type !== 'action/call') return false
      server.run(peer, message.data) // applied, but the answer and change are lost with the connection
      peer.close()
      return true
    }
    const pending = client.actions.increment(3)
    await server.nextPeer()
    server.intercept = undefined
    expect(await pending).toBe(3)
    expect(server.applied).toHaveLength(1)
    expect(client.state.counter).toBe(3)
  })
})

describe('ids, as the server tells a resend by them', () => {
  it('gives a call made while reconnecting a fresh id above the new hello, and keeps the id of one already written', async () => {
    const server = createTestServer()
    await using client = await server.connect()
    const held = holdCalls(server)
    const written = client.actions.push('written')
    await vi.waitFor(() => expect(held).toHaveLength(1))
    let unsent: Promise<number> | undefined
    client.onStatusChange((status) => {
      if (status === 'reconnecting') unsent = client.actions.push('unsent')
    })
    const next = server.nextPeer()
    server.intercept = undefined
    server.peer.close()
    const second = await next
    const hello = await nextOf(second, 'hello')
    const sent = [await nextOf(second, 'action/call'), await nextOf(second, 'action/call')]
    expect(sent.map(({ input }) => input)).toEqual(['written', 'unsent'])
    // Written before: the same id, below the hello, so a server that applied it answers from its record.
    expect(sent[0]!.id).toBe(held[0]!.call.id)
    expect(sent[0]!.id).toBeLessThan(hello.id)
    // Never written: numbered now, above the hello, so it cannot pass for a resend.
    expect(sent[1]!.id).toBeGreaterThan(hello.id)
    expect([await written, await unsent]).toEqual([1, 2])
  })

  it('fails a call written to the old run with OUTCOME_UNKNOWN when the server is a new run; sends the rest with fresh ids', async () => {
    const server = createTestServer()
    await using client = await server.connect()
    const held = holdCalls(server)
    const written = client.actions.push('written')
    await vi.waitFor(() => expect(held).toHaveLength(1))
    let unsent: Promise<number> | undefined
    let read: Promise<unknown> | undefined
    client.onStatusChange((status) => {
      if (status !== 'reconnecting') return
      unsent = client.actions.push('unsent')
      read = client.getState()
    })
    server.restart({ counter: 0, list: [] }, 'epoch-2')
    const next = server.nextPeer()
    server.intercept = undefined
    server.peer.close()
    const second = await next
    const hello = await nextOf(second, 'hello')
    // It may have been applied by the old run, whose record is gone: not run again on the new store.
    const error = await caught(written)
    expect(error).toMatchObject({ code: ErrorCode.OUTCOME_UNKNOWN, retryable: false, data: { reason: 'new-run' } })
    expect(error.message).toContain('new server run')
    // Never written to any socket: new to every run, so the new one takes it.
    const sent = await nextOf(second, 'action/call')
    expect(sent.input).toBe('unsent')
    expect(sent.id).toBeGreaterThan(hello.id)
    expect(await unsent).toBe(1)
    expect(await read).toEqual({ counter: 0, list: ['unsent'] })
    expect(server.applied).toHaveLength(1)
    expect(client.state.list).toEqual(['unsent'])
  })

  it('sends a call to the new run when the old one said goodbye first: it answered every call it took', async () => {
    const server = createTestServer()
    await using client = await server.connect()
    const held = holdCalls(server)
    const pending = client.actions.push('a')
    await vi.waitFor(() => expect(held).toHaveLength(1))
    server.restart({ counter: 0, list: [] }, 'epoch-2')
    const next = server.nextPeer()
    server.intercept = undefined
    server.peer.send({ type: ServerMessageType.ServerClosing, data: { reason: 'closing' } })
    server.peer.close()
    const second = await next
    const hello = await nextOf(second, 'hello')
    const resent = await nextOf(second, 'action/call')
    expect(resent.input).toBe('a')
    expect(resent.id).toBeGreaterThan(hello.id)
    expect(await pending).toBe(1)
    expect(client.state.list).toEqual(['a'])
  })

  it('fails with OUTCOME_UNKNOWN after a goodbye a call an earlier, abruptly lost connection may have applied', async () => {
    const server = createTestServer()
    await using client = await server.connect()
    const held = holdCalls(server)
    const pending = client.actions.push('a')
    await vi.waitFor(() => expect(held).toHaveLength(1))
    // Lost without a goodbye: the same run may have applied it.
    let next = server.nextPeer()
    server.peer.close()
    await next
    await vi.waitFor(() => expect(held).toHaveLength(2))
    server.restart({ counter: 0, list: [] }, 'epoch-2')
    next = server.nextPeer()
    server.intercept = undefined
    server.peer.send({ type: ServerMessageType.ServerClosing, data: { reason: 'closing' } })
    server.peer.close()
    await next
    expect((await caught(pending)).code).toBe(ErrorCode.OUTCOME_UNKNOWN)
    expect(server.applied).toEqual([])
  })

  it('sends a read written to the old run again to the new one', async () => {
    const server = createTestServer()
    await using client = await server.connect()
    server.intercept = (message) => message.type === 'state/get'
    const read = client.getState()
    await vi.waitFor(() => expect(server.peer.received.at(-1)?.type).toBe('state/get'))
    server.restart({ counter: 5, list: [] }, 'epoch-2')
    const next = server.nextPeer()
    server.intercept = undefined
    server.peer.close()
    await next
    expect(await read).toEqual({ counter: 5, list: [] })
  })

  it('rejects a call the server answers with OUTCOME_UNKNOWN, not retryable, and does not send it again', async () => {
    const server = createTestServer()
    await using client = await server.connect()
    server.intercept = (message, peer) => {
      if (message.type !== 'action/call') return false
      peer.send({
        type: ServerMessageType.Response,
        data: { id: message.data.id, error: { code: ErrorCode.OUTCOME_UNKNOWN, message: 'may or may not have been applied' } },
      })
      return true
    }
    const error = await caught(client.actions.increment(1))
    expect(error).toMatchObject({ code: ErrorCode.OUTCOME_UNKNOWN, message: 'may or may not have been applied', retryable: false })
    expect(server.peer.received.filter((message) => message.type === 'action/call')).toHaveLength(1)
  })
})

describe('a response the client cannot read', () => {
  it('fails the request it answered with BAD_REQUEST and resyncs the replica', async () => {
    const server = createTestServer()
    await using client = await server.connect()
    server.intercept = (message, peer) => {
      if (message.type !== 'action/call') return false
      server.run(peer, message.data)
      const malformed = {
        type: ServerMessageType.Response,
        data: { id: message.data.id, error: { code: 'NOT_A_CODE', message: 7 } },
      }
      peer.sendRaw(JSON.stringify(malformed) + FRAME_DELIMITER)
      return true
    }
    const error = await caught(client.actions.increment())
    expect(error.code).toBe(ErrorCode.BAD_REQUEST)
    expect(error.message).toMatch(/^The answer from \/tmp\/test.memory does not decode: /)
    await vi.waitFor(() => expect(client.version).toBe(1))
    expect(client.state.counter).toBe(1)
    expect(server.peer.received.at(-1)?.type).toBe('state/get')
  })
})

describe("the server's frame limit", () => {
  /** The bytes the server counts for the frame of `push(item)` as request `id`: the JSON, without its delimiter. */
  const pushBytes = (id: number, item: string) =>
    Buffer.byteLength(JSON.stringify({ type: 'action/call', data: { id, action: 'push', input: item } }))

  it('refuses a call larger than the hello says the server reads with FRAME_TOO_LARGE, without sending it', async () => {
    const server = createTestServer()
    // The hello is request 1: the first call is 2, the second 3.
    server.maxFrameBytes = pushBytes(2, 'a'.repeat(100))
    await using client = await server.connect({ binaryFrames: false })
    const statuses: string[] = []
    client.onStatusChange((status) => statuses.push(status))
    // Exactly the limit: sent.
    expect(await client.actions.push('a'.repeat(100))).toBe(1)
    // As many UTF-16 units, twice the bytes in UTF-8: refused.
    const error = await caught(client.actions.push('é'.repeat(100)))
    expect(error).toMatchObject({
      code: ErrorCode.FRAME_TOO_LARGE,
      retryable: false,
      data: { limit: server.maxFrameBytes, size: pushBytes(3, 'é'.repeat(100)) },
    })
    expect(error.message).toContain('maxFrameBytes')
    expect(server.peer.received.filter((message) => message.type === 'action/call')).toHaveLength(1)
    // The connection is untouched, and the queue goes on.
    expect(await client.actions.push('b')).toBe(2)
    expect([statuses, server.peers.length]).toEqual([[], 1])
  })

  it('counts a binary frame by its body, as the server does', async () => {
    const server = createTestServer()
    server.binary = true
    server.maxFrameBytes = 10_000
    await using client = await server.connect()
    const error = await caught(client.actions.push('x'.repeat(20_000)))
    expect(error.code).toBe(ErrorCode.FRAME_TOO_LARGE)
    expect(server.peer.binaryFrames).toBe(0)
    expect(await client.actions.push('x'.repeat(9_000))).toBe(1)
    expect(server.peer.binaryFrames).toBe(1)
  })

  it('from a server that does not say its limit, learns it from the refusal and does not send the call again', async () => {
    const server = createTestServer()
    const limit = 300
    server.intercept = (message, peer) => {
      if (message.type !== 'action/call' || JSON.stringify(message).length <= limit) return false
      // What an older server does: a fatal protocol/error that says its limit, then it closes.
      const wire = { code: ErrorCode.FRAME_TOO_LARGE, message: 'too large', data: { limit } }
      peer.send({ type: ServerMessageType.ProtocolError, data: { error: wire, fatal: true } })
      peer.close()
      return true
    }
    await using client = await server.connect({ binaryFrames: false })
    const error = await caught(client.actions.push('x'.repeat(1_000)))
    expect(error).toMatchObject({ code: ErrorCode.FRAME_TOO_LARGE, data: { limit } })
    // Sent once, to the connection that refused it; the next one never saw it.
    const sent = server.peers.map((peer) => peer.received.filter((message) => message.type === 'action/call').length)
    expect(sent).toEqual([1, 0])
    expect(await client.actions.push('small')).toBe(1)
  })
})
