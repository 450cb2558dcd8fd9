import { ErrorCode } from '@ipc-state/protocol'
import { ServerMessageType, type StateChangedNotification } from '@ipc-state/protocol/wire'
import { describe, expect, it, vi } from 'vitest'
import { call, send, startTestServer, type TestServer } from '../../test/test-helpers.js'

describe('action order', () => {
  it('runs calls from several connections in one total order, with consecutive versions', async () => {
    await using t = await startTestServer()
    const peers = await Promise.all(['a', 'b', 'c'].map(async (clientId) => (await t.greet({ clientId })).peer))
    // Interleaved: each connection sends its calls without waiting for the answers.
    for (let id = 1; id <= 5; id++) for (const [index, peer] of peers.entries()) send(peer, id, 'append', `${index}:${id}`)
    const answers = await Promise.all(peers.flatMap((peer) => [1, 2, 3, 4, 5].map((id) => peer.response(id))))
    const versions = answers.map((answer) => (answer.result as { version: number }).version).sort((x, y) => x - y)
    expect(versions).toEqual(Array.from({ length: 15 }, (_, i) => i + 1))
    // Each answer's value is the log length right after that call: the order the log shows.
    for (const answer of answers) {
      const { value, version } = answer.result as { value: number; version: number }
      expect(value).toBe(version)
    }
    // Per connection, arrival order is kept.
    for (const [index] of peers.entries()) {
      const own = t.server.state.log.filter((entry) => entry.startsWith(`${index}:`))
      expect(own).toEqual([1, 2, 3, 4, 5].map((id) => `${index}:${id}`))
    }
  })

  it('keeps arrival order behind an asynchronous input check: a later, synchronous call waits its turn', async () => {
    await using t = await startTestServer()
    const { peer: slow } = await t.greet({ clientId: 'slow' })
    const { peer: fast } = await t.greet({ clientId: 'fast' })
    send(slow, 1, 'checked', 'first')
    await vi.waitFor(() => expect(t.gate.pending).toHaveLength(1))
    send(fast, 1, 'append', 'second')
    send(slow, 2, 'checked', 'third')
    await vi.waitFor(() => expect(t.gate.pending).toHaveLength(2))
    // The last check finishes first; nothing may run before the first.
    t.gate.pass('third')
    await Promise.resolve()
    expect(t.server.version).toBe(0)
    t.gate.pass('first')
    expect((await slow.response(2)).result).toEqual({ value: 3, version: 3 })
    expect(t.server.state.log).toEqual(['first', 'second', 'third'])
    expect((await fast.response(1)).result).toEqual({ value: 2, version: 2 })
  })

  it('answers a failed asynchronous check with BAD_ARGUMENTS in its turn, and applies nothing for it', async () => {
    await using t = await startTestServer()
    const { peer } = await t.greet()
    send(peer, 1, 'checked', 'bad')
    send(peer, 2, 'append', 'after')
    await vi.waitFor(() => expect(t.gate.pending).toHaveLength(1))
    t.gate.fail('bad', 'not allowed')
    expect((await peer.response(1)).error).toMatchObject({
      code: ErrorCode.BAD_ARGUMENTS,
      message: 'Invalid input for action "checked": not allowed',
    })
    expect((await peer.response(2)).result).toEqual({ value: 1, version: 1 })
    expect(peer.messages.map((m) => (m.data as { id: number }).id)).toEqual([0, 1, 2])
    expect(t.server.state.log).toEqual(['after'])
  })

  it('sends a replica the change before the answer to its own call', async () => {
    await using t = await startTestServer()
    const { peer } = await t.greet({ replica: true })
    await call(peer, 1, 'increment', 1)
    expect(peer.messages.slice(1).map((m) => m.type)).toEqual([ServerMessageType.StateChanged, ServerMessageType.Response])
  })
})

describe('exactly once', () => {
  it('answers a resent call from the record, as sent the first time, and never applies it twice', async () => {
    await using t = await startTestServer()
    const { peer: first } = await t.greet({ clientId: 'me' })
    const original = await call(first, 1, 'increment', 5)
    first.close()
    await first.closed
    const { peer: second } = await t.greet({ clientId: 'me' })
    expect(await call(second, 1, 'increment', 5)).toEqual(original)
    expect(t.server.state.counter).toBe(5)
    expect(t.server.version).toBe(1)
    // A failed call changed nothing, so it is not kept: its resend runs again, with the same outcome.
    const failed = await call(second, 2, 'explode')
    expect(await call(second, 2, 'explode')).toEqual(failed)
    expect(second.frames.at(-1)).toBe(second.frames.at(-2))
    expect(t.server.state.counter).toBe(5)
  })

  it('applies a call resent while its first copy still waits in the queue once, answering the new connection', async () => {
    await using t = await startTestServer()
    const { peer: first } = await t.greet({ clientId: 'same' })
    send(first, 5, 'checked', 'once')
    await vi.waitFor(() => expect(t.gate.pending).toHaveLength(1))
    first.close()
    await first.closed
    const { peer: second } = await t.greet({ clientId: 'same', id: 1 })
    send(second, 5, 'checked', 'once')
    send(second, 6, 'increment', 1)
    t.gate.pass('once')
    expect((await second.response(5)).result).toEqual({ value: 1, version: 1 })
    expect((await second.response(6)).result).toEqual({ value: 1, version: 2 })
    expect(second.responses(5)).toHaveLength(1)
    expect(t.gate.pending).toEqual([])
    expect(t.server.state.log).toEqual(['once'])
  })

  it("sends an answer to the instance's current connection, even while the one that sent the call is open", async () => {
    await using t = await startTestServer()
    const { peer: old } = await t.greet({ clientId: 'c', instanceId: 'i-1' })
    send(old, 3, 'checked', 'moved')
    await vi.waitFor(() => expect(t.gate.pending).toHaveLength(1))
    const { peer: current } = await t.greet({ clientId: 'c', instanceId: 'i-1' })
    t.gate.pass('moved')
    expect((await current.response(3)).result).toEqual({ value: 1, version: 1 })
    expect(old.responses(3)).toEqual([])
  })

  it('tells instances apart: a new instance reusing a clientId is not answered from the old one', async () => {
    await using t = await startTestServer()
    const { peer: one } = await t.greet({ clientId: 'c', instanceId: 'one' })
    const { peer: two } = await t.greet({ clientId: 'c', instanceId: 'two' })
    expect((await call(one, 1, 'increment', 1)).result).toEqual({ value: 1, version: 1 })
    expect((await call(two, 1, 'increment', 1)).result).toEqual({ value: 2, version: 2 })
  })

  it('keeps dedupWindow answers per instance: a resend older than that gets OUTCOME_UNKNOWN and is not applied again', async () => {
    await using t = await startTestServer({ dedupWindow: 2 })
    const { peer } = await t.greet()
    for (const id of [1, 2, 3]) await call(peer, id, 'increment', 1)
    // 1 was dropped for 3; 2 and 3 are still held.
    expect((await call(peer, 2, 'increment', 1)).result).toEqual({ value: 2, version: 2 })
    const unknown = await call(peer, 1, 'increment', 1)
    expect(unknown.error).toMatchObject({ code: ErrorCode.OUTCOME_UNKNOWN, data: { id: 1, reason: 'window' } })
    expect(unknown.error?.message).toContain('option dedupWindow')
    expect(t.server.state.counter).toBe(3)
    expect(t.server.version).toBe(3)
  })

  it('never forgets an instance with a connection to make room for newcomers', async () => {
    await using t = await startTestServer({ maxRememberedClients: 1, dedupWindow: 1, answerGrace: 0 })
    const { peer: live } = await t.greet({ clientId: 'live' })
    await call(live, 1, 'increment', 1)
    for (let n = 0; n < 50; n++) {
      const { peer } = await t.greet({ clientId: `passer-${n}` })
      await call(peer, 1, 'append', 'x')
      peer.close()
      await peer.closed
    }
    expect((await call(live, 1, 'increment', 1)).result).toEqual({ value: 1, version: 1 })
    expect(t.server.state.counter).toBe(1)
  })
})

describe('exactly once, whoever comes by', () => {
  /** Opens `count` connections one after another, each a new instance making one call, then gone. */
  async function passersBy(t: TestServer, count: number, action: string): Promise<void> {
    for (let n = 0; n < count; n++) {
      const { peer } = await t.greet({ clientId: `${action}-${n}` })
      await call(peer, 1, action, 'x')
      peer.close()
      await peer.closed
    }
  }

  /**
   * A client that calls `increment` and loses its connection once the call was applied, before it
   * read the answer: cut by the server, or dropped by whatever lies between.
   */
  async function cutAfterItsCall(t: TestServer): Promise<void> {
    const { peer: victim } = await t.greet({ clientId: 'victim', instanceId: 'victim-1', replica: true })
    victim.pause()
    send(victim, 1, 'increment', 1)
    await vi.waitFor(() => expect(t.server.state.counter).toBe(1))
    victim.server.destroy()
    await victim.closed
    expect(victim.responses(1)).toEqual([])
  }

  it('answers the resend of a client cut off after its call from the record, after 2,000 short-lived clients and 500 failed calls', async () => {
    await using t = await startTestServer()
    await cutAfterItsCall(t)
    await passersBy(t, 2_000, 'append')
    await passersBy(t, 500, 'unknownAction')
    // Back as the same instance, with a later hello, it resends call 1.
    const { peer: back } = await t.greet({ clientId: 'victim', instanceId: 'victim-1', id: 2 })
    expect((await call(back, 1, 'increment', 1)).result).toEqual({ value: 1, version: 1 })
    expect(t.server.state.counter).toBe(1)
    expect(t.server.state.log).toHaveLength(2_000)
  }, 30_000)

  it('answers OUTCOME_UNKNOWN once the record was forgotten past answerGrace, and applies nothing', async () => {
    await using t = await startTestServer({ answerGrace: 0, maxRememberedClients: 16 })
    await cutAfterItsCall(t)
    await passersBy(t, 32, 'append')
    const { peer: back } = await t.greet({ clientId: 'victim', instanceId: 'victim-1', id: 2 })
    const resent = await call(back, 1, 'increment', 1)
    expect(resent.error).toMatchObject({ code: ErrorCode.OUTCOME_UNKNOWN, data: { id: 1, reason: 'expired' } })
    expect(resent.error?.message).toMatch(/may or may not have been applied.*answerGrace: 0 ms.*Do not retry it blindly/)
    // Asked again, the same answer: never a second apply.
    expect((await call(back, 1, 'increment', 1)).error?.code).toBe(ErrorCode.OUTCOME_UNKNOWN)
    expect(t.server.state.counter).toBe(1)
    // A new call of the same instance, numbered after its hello, is applied as usual.
    expect((await call(back, 3, 'increment', 1)).result).toMatchObject({ value: 2 })
  })

  it('lets failed calls make no room: an answered call outlives any number of them, even past its grace', async () => {
    await using t = await startTestServer({ answerGrace: 0, maxRememberedClients: 1 })
    await cutAfterItsCall(t)
    await passersBy(t, 200, 'unknownAction')
    await passersBy(t, 200, 'explode')
    const { peer: back } = await t.greet({ clientId: 'victim', instanceId: 'victim-1', id: 2 })
    expect((await call(back, 1, 'increment', 1)).result).toEqual({ value: 1, version: 1 })
    expect(t.server.state.counter).toBe(1)
  })
})

describe('in flight', () => {
  it('answers a call past maxInFlight on one connection with TOO_MANY_REQUESTS, and frees the slot once answered', async () => {
    await using t = await startTestServer({ maxInFlight: 1 })
    const { peer } = await t.greet()
    const { peer: other } = await t.greet({ clientId: 'other' })
    send(peer, 1, 'checked', 'held')
    await vi.waitFor(() => expect(t.gate.pending).toHaveLength(1))
    expect((await call(peer, 2, 'increment', 1)).error).toMatchObject({ code: ErrorCode.TOO_MANY_REQUESTS })
    // The limit is per connection: another one's call queues behind the held one.
    send(other, 1, 'increment', 1)
    t.gate.pass('held')
    expect((await other.response(1)).result).toEqual({ value: 1, version: 2 })
    expect((await call(peer, 3, 'increment', 1)).result).toEqual({ value: 2, version: 3 })
    // A refused call is not remembered: sent again later, it is applied.
    expect((await call(peer, 2, 'increment', 1)).result).toEqual({ value: 3, version: 4 })
  })
})

describe('changes', () => {
  it('does not make a version for an action that changed nothing', async () => {
    await using t = await startTestServer()
    const { peer } = await t.greet({ replica: true })
    expect((await call(peer, 1, 'peek')).result).toEqual({ value: 0, version: 0 })
    expect(peer.messages.filter((m) => m.type === ServerMessageType.StateChanged)).toEqual([])
    await call(peer, 2, 'increment', 1)
    const changes = peer.messages.filter((m) => m.type === ServerMessageType.StateChanged)
    expect(changes.map((m) => (m.data as StateChangedNotification).version)).toEqual([1])
  })
})
