// Limits that protect a server process from one client: frame size, slow readers, requests in
// flight, connections. Misbehaving peers are raw sockets or processes against a real server.
import { connect } from '@ipc-state/client'
import { FRAME_DELIMITER, encodeClientMessage, encodeFrame } from '@ipc-state/protocol/wire'
import { describe, expect, it, vi } from 'vitest'
import { MiB, mib } from '../src/checks.js'
import { startLoadClient } from '../src/processes/client-fixture.js'
import { ask, crashLines, type FixtureEvent, fixture } from '../src/processes/processes.js'
import { RawClient } from '../src/peers/raw-client.js'
import { startServer } from '../src/processes/server-fixture.js'
import type { TestStore } from '../src/stores/test-store.js'

/** What a kernel may hold for one Unix stream connection (send plus receive side), generously. */
const SOCKET_BUFFERS = 2 * MiB

function printDone(label: string, done: FixtureEvent): void {
  const latency = done.latencyMs as { p50: number; p99: number; max: number }
  console.log(
    `${label}: ${String(done.acked)} calls acknowledged; latency p50 ${latency.p50.toFixed(2)} ms, ` +
      `p99 ${latency.p99.toFixed(2)} ms, max ${latency.max.toFixed(2)} ms`,
  )
}

describe('limits that protect the server from one client', () => {
  // Polite: a plain socket, which stops when the server ends its side. Hostile: it ignores what
  // the server says and keeps its own side open after the server's FIN, writing until it fails.
  it.each([
    ['a plain socket', false],
    ['a half-open socket that ignores the server', true],
  ])('%s streaming 200 MiB without a delimiter is cut off at the frame limit', async (label, allowHalfOpen) => {
    const limit = MiB
    await using server = await startServer({ env: { IPC_STATE_MAX_FRAME_BYTES: String(limit) } })
    const baseline = await server.stats()

    // A well-behaved client keeps calling from another process the whole time.
    await using caller = startLoadClient(server, { IPC_STATE_CALLS: '0', IPC_STATE_REPLICA: '0', IPC_STATE_PROGRESS_AT: '50' })
    await caller.waitFor('progress')
    const countBefore = (await ask(caller, 'count')).acked as number

    // Writes respect backpressure, and the loop is bounded by the 200 MiB budget.
    await using flooder = await RawClient.connect(server.path, { allowHalfOpen })
    const chunk = Buffer.alloc(64 * 1024, 'a')
    const budget = 200 * MiB
    let attempted = 0
    let accepted = 0
    let peakRss = baseline.rss
    let samples = 0
    const sampling = (async () => {
      // Samples the server's memory while the flood lasts (bounded; each sample is a round trip).
      while (!flooder.isClosed && samples < 2_000) {
        peakRss = Math.max(peakRss, (await server.stats()).rss)
        samples += 1
      }
    })()
    const started = performance.now()
    while (!flooder.isClosed && !flooder.socket.writableEnded && attempted < budget) {
      attempted += chunk.length
      const more = flooder.socket.write(chunk, (error) => {
        if (!error) accepted += chunk.length
      })
      if (!more) {
        await Promise.race([new Promise((resolve) => flooder.socket.once('drain', resolve)), flooder.closed])
      }
    }
    await flooder.expectClosed()
    const floodMs = performance.now() - started
    await sampling
    const countAfter = (await ask(caller, 'count')).acked as number

    const error = flooder.frames.find((f) => f.type === 'protocol/error')
    expect(error?.data).toMatchObject({ fatal: true, error: { code: 'FRAME_TOO_LARGE' } })
    expect(flooder.frames.filter((f) => f.type === 'protocol/error')).toHaveLength(1)

    const after = await server.stats()
    console.log(
      `frame flood (${label}): ${mib(accepted)} accepted by the socket (${mib(attempted)} attempted) in ${floodMs.toFixed(0)} ms ` +
        `before the close; limit ${mib(limit)}. Server RSS: baseline ${mib(baseline.rss)}, peak sampled ${mib(peakRss)} ` +
        `(${samples} samples), after ${mib(after.rss)}`,
    )
    // Cut off near the limit, not after absorbing the stream. Soft, so one run reports every figure.
    expect.soft(attempted).toBeLessThan(budget)
    expect.soft(accepted).toBeLessThanOrEqual(4 * limit + SOCKET_BUFFERS)
    expect.soft(after.rss).toBeLessThan(baseline.rss + 32 * limit)
    expect.soft(peakRss).toBeLessThan(baseline.rss + 32 * limit)
    expect(after.connections).toBe(1)

    // The other client kept being served and ends without an error.
    const done = await ask(caller, 'stop', 'done')
    printDone('caller during the flood', done)
    expect(countAfter).toBeGreaterThan(countBefore)
    expect(done.errors).toEqual({})
    expect(done.finalOk).toBe(true)
    expect(crashLines(server.process)).toEqual([])
  })

  it('the frame limit is exact, and counted in bytes, not characters', async () => {
    const limit = MiB
    await using server = await startServer({ env: { IPC_STATE_MAX_FRAME_BYTES: String(limit) } })
    /** An action/call frame of exactly `bytes` bytes, the delimiter excluded (the limit does not count it). */
    const frameOf = (id: number, bytes: number) => {
      const padded = (pad: string) => encodeFrame('action/call', { id, action: 'peek', pad })
      const frame = padded('x'.repeat(bytes + FRAME_DELIMITER.length - padded('').length))
      expect(Buffer.byteLength(frame) - FRAME_DELIMITER.length).toBe(bytes)
      return frame
    }
    await using raw = await RawClient.hello(server.path)
    await raw.write(frameOf(1, limit))
    expect((await raw.response(1)).data.result).toEqual({ value: 0, version: 0 })
    await raw.write(frameOf(2, limit + 1))
    expect((await raw.protocolError()).data).toMatchObject({ fatal: true, error: { code: 'FRAME_TOO_LARGE' } })
    await raw.expectClosed()

    // 'ğ' is 2 bytes in UTF-8: fewer characters than the limit, more bytes.
    await using wide = await RawClient.hello(server.path)
    const frame = encodeFrame('action/call', { id: 3, action: 'peek', pad: 'ğ'.repeat(limit / 2) })
    expect(frame.length).toBeLessThan(limit)
    expect(Buffer.byteLength(frame)).toBeGreaterThan(limit)
    await wide.write(frame)
    expect((await wide.protocolError()).data.error.code).toBe('FRAME_TOO_LARGE')
    await wide.expectClosed()
    expect((await server.stats()).connections).toBe(0)
    expect(crashLines(server.process)).toEqual([])
  })

  it('a client that pipelines state/get and never reads is dropped before its answers pile up', async () => {
    const maxBuffered = MiB
    await using server = await startServer({ env: { IPC_STATE_MAX_BUFFERED_BYTES: String(maxBuffered) } })
    // A state of about 55 KiB, so every state/get answer is that big.
    {
      await using writer = await RawClient.hello(server.path)
      const text = 'm'.repeat(500)
      await writer.write(
        Array.from({ length: 100 }, (_, i) =>
          encodeClientMessage({ type: 'action/call', data: { id: i + 1, action: 'addMessage', input: text } }),
        ).join(''),
      )
      await writer.response(100)
    }
    await vi.waitFor(async () => expect((await server.stats()).connections).toBe(0), { timeout: 10_000, interval: 20 })
    const baseline = await server.stats()
    const answerBytes = JSON.stringify((await server.view()).state).length

    await using greedy = await RawClient.hello(server.path)
    greedy.socket.pause()
    const start = greedy.bytesReceived
    // 200 requests (about 11 MiB of answers) per batch; stop once the server drops it, or before
    // the server's memory would grow past the point this test treats as a failure.
    let requested = 0
    let stats = baseline
    for (let batch = 0; batch < 60; batch++) {
      const frames = Array.from({ length: 200 }, () => encodeClientMessage({ type: 'state/get', data: { id: ++requested } }))
      try {
        await greedy.write(frames.join(''))
      } catch {
        break // the server closed the connection
      }
      stats = await server.stats()
      if (stats.connections === 0 || stats.rss > baseline.rss + 192 * MiB) break
    }
    console.log(
      `pipelined state/get: ${requested} requests for ${(answerBytes / 1024).toFixed(0)} KiB answers sent; server connections ${stats.connections}, ` +
        `RSS baseline ${mib(baseline.rss)}, now ${mib(stats.rss)} (limit maxBufferedBytes ${mib(maxBuffered)})`,
    )
    expect(stats.connections).toBe(0)
    expect(stats.rss).toBeLessThan(baseline.rss + 64 * MiB)
    greedy.socket.resume()
    await greedy.expectClosed()
    expect(greedy.frames.at(-1)).toMatchObject({ type: 'protocol/error', data: { fatal: true, error: { code: 'SLOW_CONSUMER' } } })
    expect(greedy.bytesReceived - start).toBeLessThanOrEqual(maxBuffered + SOCKET_BUFFERS + 2 * answerBytes)
  })

  it('a replica that never reads is dropped with SLOW_CONSUMER and memory stays bounded', async () => {
    const maxBuffered = MiB
    await using server = await startServer({ env: { IPC_STATE_MAX_BUFFERED_BYTES: String(maxBuffered) } })
    const baseline = await server.stats()

    await using slow = await RawClient.hello(server.path, { replica: true })
    slow.socket.pause()
    const receivedBeforePause = slow.bytesReceived

    await using caller = startLoadClient(server, {
      IPC_STATE_ACTION: 'addMessage',
      IPC_STATE_TEXT_BYTES: '500',
      IPC_STATE_CALLS: '10000',
      IPC_STATE_CONCURRENCY: '8',
      IPC_STATE_REPLICA: '0',
    })
    await caller.waitFor('connected')
    // The server drops the slow one while the changes are still coming; only the caller stays.
    await vi.waitFor(
      async () => {
        expect(caller.events.some((e) => e.event === 'done')).toBe(false)
        expect((await server.stats()).connections).toBe(1)
      },
      { timeout: 40_000, interval: 10 },
    )
    // Read what was queued for it: the last frame is the reason it was dropped.
    slow.socket.resume()
    await slow.expectClosed()
    const last = slow.frames.at(-1)
    expect(last).toMatchObject({ type: 'protocol/error', data: { fatal: true, error: { code: 'SLOW_CONSUMER' } } })
    const changes = slow.frames.filter((f) => f.type === 'state/changed')
    expect(changes.length).toBeGreaterThan(0)
    // In order, none missing, up to where it was cut.
    expect(changes.map((f) => f.data.version)).toEqual(changes.map((_, i) => i + 1))

    const done = await caller.waitFor('done')
    printDone('caller broadcasting 10,000 changes', done)
    expect(done.acked).toBe(10_000 + 1)
    expect(done.errors).toEqual({})
    const after = await server.stats()
    const view = await server.view()
    const stateBytes = JSON.stringify(view.state).length
    console.log(
      `slow consumer: received ${mib(slow.bytesReceived - receivedBeforePause)} in ${changes.length} changes before the cut ` +
        `(limit ${mib(maxBuffered)}); ${view.version} changes made in all (${mib(10_000 * 650)} of change frames). ` +
        `Server RSS: baseline ${mib(baseline.rss)}, after ${mib(after.rss)}; state is ${mib(stateBytes)} as JSON`,
    )
    // Cut near the limit: everything the server queued for it fits in the limit plus socket buffers.
    expect(slow.bytesReceived - receivedBeforePause).toBeLessThanOrEqual(maxBuffered + SOCKET_BUFFERS + 64 * 1024)
    expect(changes.length).toBeLessThan(10_000)
    expect(view.version).toBe(10_001)
    // The state itself legitimately grows; what must not is a queue for the client that stopped
    // reading (the byte count above is the precise check, this one catches gross growth).
    expect(after.rss).toBeLessThan(baseline.rss + 10 * stateBytes + 32 * MiB)
    await caller.exited
    await vi.waitFor(async () => expect((await server.stats()).connections).toBe(0), { timeout: 10_000, interval: 20 })
    expect(crashLines(server.process)).toEqual([])
  })

  it('requests beyond maxInFlight on one connection get TOO_MANY_REQUESTS', async () => {
    await using server = await startServer({ script: fixture('servers/gated-server.ts'), env: { IPC_STATE_MAX_IN_FLIGHT: '4' } })
    await using raw = await RawClient.hello(server.path)
    await using other = await RawClient.hello(server.path)
    const call = (id: number, action: string, input: number) =>
      encodeClientMessage({ type: 'action/call', data: { id, action, input } })
    // Four calls wait on the gate; the fifth and sixth exceed the limit, whatever their action.
    await raw.write(
      call(1, 'gated', 1) +
        call(2, 'gated', 1) +
        call(3, 'gated', 1) +
        call(4, 'gated', 1) +
        call(5, 'gated', 1) +
        call(6, 'increment', 1),
    )
    expect((await raw.response(5)).data.error.code).toBe('TOO_MANY_REQUESTS')
    expect((await raw.response(6)).data.error.code).toBe('TOO_MANY_REQUESTS')
    // Another connection has its own budget: its call is queued behind the gate, not refused.
    await other.send({ type: 'action/call', data: { id: 1, action: 'increment', input: 10 } })
    expect((await server.view()).state.counter).toBe(0)
    expect(server.process.events.filter((e) => e.event === 'checking')).toHaveLength(4)
    expect(raw.frames.filter((f) => [1, 2, 3, 4].includes(f.data?.id))).toEqual([])
    expect(other.frames).toHaveLength(1)

    await ask(server.process, 'release', 'released')
    const values = await Promise.all([1, 2, 3, 4].map(async (id) => (await raw.response(id)).data.result.value))
    expect(values).toEqual([1, 2, 3, 4])
    expect((await other.response(1)).data.result.value).toBe(14)
    // With the queue drained, the connection may call again.
    await raw.write(call(7, 'gated', 1))
    expect((await raw.response(7)).data.result.value).toBe(15)
    expect(crashLines(server.process)).toEqual([])
  })

  it('the connection past maxConnections gets TOO_MANY_CONNECTIONS; a freed slot is reused', async () => {
    await using server = await startServer({ env: { IPC_STATE_MAX_CONNECTIONS: '5' } })
    const clients: RawClient[] = []
    try {
      for (let i = 0; i < 5; i++) clients.push(await RawClient.hello(server.path, { clientId: `c${i}` }))
      expect((await server.stats()).connections).toBe(5)

      await using sixth = await RawClient.connect(server.path)
      const refusal = await sixth.protocolError()
      expect(refusal.data).toMatchObject({ fatal: true, error: { code: 'TOO_MANY_CONNECTIONS' } })
      expect(refusal.data.error.message).toContain('5')
      await sixth.expectClosed()

      // The five are unaffected.
      for (const [i, client] of clients.entries()) {
        await client.send({ type: 'action/call', data: { id: 10, action: 'increment', input: 1 } })
        expect((await client.response(10)).data.result.value).toBe(i + 1)
      }

      await clients.shift()!.close()
      await vi.waitFor(async () => expect((await server.stats()).connections).toBe(4), { timeout: 10_000, interval: 20 })
      await using seventh = await RawClient.hello(server.path, { clientId: 'c-new' })
      await seventh.send({ type: 'action/call', data: { id: 1, action: 'increment', input: 1 } })
      expect((await seventh.response(1)).data.result.value).toBe(6)
      expect((await server.stats()).connections).toBe(5)
      // Full again: the next one is refused again.
      await using eighth = await RawClient.connect(server.path)
      expect((await eighth.protocolError()).data.error.code).toBe('TOO_MANY_CONNECTIONS')
      await eighth.expectClosed()
    } finally {
      await Promise.all(clients.map((client) => client.close()))
    }
    expect(crashLines(server.process)).toEqual([])
  })

  it('a connection that never sends a complete frame is closed after handshakeTimeout; the seed client is not', async () => {
    // Long enough that the seed and the greeted client, who send at once, are not cut by a busy machine.
    await using server = await startServer({ env: { IPC_STATE_HANDSHAKE_TIMEOUT: '1000' } })
    await using silent = await RawClient.connect(server.path)
    const refusal = await silent.protocolError()
    expect(refusal.data).toMatchObject({ fatal: true, error: { code: 'TIMEOUT' } })
    expect(refusal.data.error.message).toContain('option handshakeTimeout')
    await silent.expectClosed()

    // The seed's plain node-ipc client sends getSharedData at once, and stays as long as it likes.
    await using seed = await RawClient.connect(server.path)
    await seed.send({ type: 'getSharedData', data: undefined })
    await seed.waitFor((frame) => frame.type === 'sharedData', 'sharedData')
    await using greeted = await RawClient.hello(server.path, { clientId: 'greeted' })
    // A silent connection opened after them is refused: their own deadlines have passed too.
    await using later = await RawClient.connect(server.path)
    expect((await later.protocolError()).data.error.code).toBe('TIMEOUT')
    await later.expectClosed()
    await seed.send({ type: 'getSharedData', data: undefined })
    await vi.waitFor(() => expect(seed.frames.filter((frame) => frame.type === 'sharedData')).toHaveLength(2))
    expect(seed.isClosed).toBe(false)
    expect(greeted.isClosed).toBe(false)
    expect(crashLines(server.process)).toEqual([])
  })

  it('connections that fill every slot with refused frames and never say hello are closed at handshakeTimeout; a real client then connects', async () => {
    const slots = 64
    await using server = await startServer({
      env: { IPC_STATE_MAX_CONNECTIONS: String(slots), IPC_STATE_HANDSHAKE_TIMEOUT: '1500' },
    })
    const hostile = await Promise.all(Array.from({ length: slots }, () => RawClient.connect(server.path)))
    try {
      // Half send a frame that is not JSON, half a well-formed request before any hello: each is
      // answered, non-fatally, and the connection stays open, holding its slot.
      await Promise.all(
        hostile.map(async (raw, i) => {
          if (i % 2 === 0) {
            await raw.write(`garbage ${i}${FRAME_DELIMITER}`)
            expect((await raw.protocolError()).data).toMatchObject({ fatal: false, error: { code: 'BAD_REQUEST' } })
          } else {
            const answer = await raw.request({ type: 'server/info', data: { id: i } })
            expect(answer.data.error).toMatchObject({ code: 'BAD_REQUEST', message: expect.stringContaining('hello') })
          }
          // More of the same changes nothing.
          await raw.write(`{"type":"nope"}${FRAME_DELIMITER}`)
        }),
      )
      // Not one of them said hello: every one is refused at its deadline, whatever it sent.
      await Promise.all(
        hostile.map(async (raw) => {
          const refusal = await raw.waitFor(
            (frame) => frame.type === 'protocol/error' && frame.data.fatal === true,
            'a fatal protocol/error',
          )
          expect(refusal.data.error).toMatchObject({ code: 'TIMEOUT', message: expect.stringContaining('option handshakeTimeout') })
          await raw.expectClosed()
        }),
      )
      // One attempt is enough: the slots are free again.
      await using client = await connect<TestStore>({ ...server.address, connectAttempts: 1 })
      expect(await client.actions.increment(1)).toBe(1)
    } finally {
      await Promise.all(hostile.map((raw) => raw.close()))
    }
    expect(crashLines(server.process)).toEqual([])
  })
})
