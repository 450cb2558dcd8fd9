// Lifecycle under load and faults: connection churn, many concurrent clients, and a server that
// closes in the middle of a stream of calls and is replaced by the next one.
import { RETRYABLE_ERROR_CODES } from '@ipc-state/protocol'
import { lstat } from 'node:fs/promises'
import { describe, expect, it, vi } from 'vitest'
import { mib } from '../src/checks.js'
import { startLoadClient } from '../src/processes/client-fixture.js'
import { ask, crashLines, disposeAll, type FixtureEvent, type FixtureProcess, tempSocketRoot } from '../src/processes/processes.js'
import { RawClient } from '../src/peers/raw-client.js'
import { type ServerHandle, startServer } from '../src/processes/server-fixture.js'

/** One connect/disconnect cycle; four kinds, from polite to abrupt. */
async function cycle(server: ServerHandle, i: number): Promise<number> {
  const raw = await RawClient.connect(server.path)
  try {
    switch (i % 4) {
      case 0: // hello, then a clean end
        await raw.send({ type: 'hello', data: { id: 1, protocol: 1, clientId: `churn-${i}`, replica: i % 8 === 0 } })
        await raw.response(1)
        raw.socket.end()
        break
      case 1: // hello, then reset
        await raw.send({ type: 'hello', data: { id: 1, protocol: 1, clientId: `churn-${i}`, replica: true } })
        await raw.response(1)
        raw.socket.destroy()
        break
      case 2: // never says anything
        raw.socket.destroy()
        break
      case 3: // one call, then a clean end
        await raw.send({ type: 'hello', data: { id: 1, protocol: 1, clientId: `churn-${i}`, replica: false } })
        await raw.send({ type: 'action/call', data: { id: 2, action: 'increment', input: 1 } })
        await raw.response(2)
        raw.socket.end()
        return 1
    }
    return 0
  } finally {
    await raw.expectClosed()
  }
}

/** Runs `total` cycles in `lanes` concurrent sequences; returns the increments made. */
async function churn(server: ServerHandle, total: number, lanes: number, offset = 0): Promise<number> {
  let next = 0
  let increments = 0
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < total) {
        const i = offset + next++
        const made = await cycle(server, i)
        increments += made
      }
    }),
  )
  return increments
}

/** The index in `proc.events` of the first event at or after `after` that `match` accepts. */
async function eventAfter(proc: FixtureProcess, after: number, match: (e: FixtureEvent) => boolean): Promise<number> {
  return proc.events.indexOf(await proc.waitFor(match, { after }))
}

describe('lifecycle under load and faults', () => {
  it('1,000 connect/disconnect cycles leave no open descriptors or connections behind', async () => {
    await using server = await startServer()
    // Warm up, so lazily created descriptors of the runtime are counted in the baseline.
    const warmUp = await churn(server, 40, 4)
    await vi.waitFor(async () => expect((await server.stats()).connections).toBe(0), { timeout: 10_000, interval: 20 })
    const before = await server.stats()
    const started = performance.now()
    const increments = warmUp + (await churn(server, 1_000, 8, 40))
    const churnMs = performance.now() - started
    // Closes reach the server asynchronously; wait for it to settle, then compare.
    let after = await server.stats()
    await vi.waitFor(
      async () => {
        after = await server.stats()
        expect(after.connections).toBe(0)
        if (before.fds !== undefined) expect(after.fds).toBeLessThanOrEqual(before.fds + 4)
      },
      { timeout: 10_000, interval: 20 },
    )
    console.log(
      `churn: 1,000 cycles in ${churnMs.toFixed(0)} ms; server fds ${before.fds} -> ${after.fds}, ` +
        `connections ${before.connections} -> ${after.connections}, RSS ${mib(before.rss)} -> ${mib(after.rss)}`,
    )
    expect((await server.view()).version).toBe(increments)
    expect(increments).toBe(260)
    expect(crashLines(server.process)).toEqual([])
  })

  it('200 concurrent connections from 4 processes are all served', async () => {
    await using server = await startServer()
    await using callers = disposeAll(
      Array.from({ length: 4 }, (_, i) =>
        startLoadClient(server, {
          IPC_STATE_CLIENTS: '50',
          IPC_STATE_CALLS: '5',
          IPC_STATE_WAIT_GO: '1',
          // Half of them keep replicas and receive every change.
          IPC_STATE_REPLICA: i % 2 === 0 ? '1' : '0',
        }),
      ),
    )
    await Promise.all(callers.map((caller) => caller.waitFor('connected')))
    expect((await server.stats()).connections).toBe(200)
    const started = performance.now()
    const done = await Promise.all(callers.map((caller) => ask(caller, 'go', 'done')))
    const ms = performance.now() - started
    for (const result of done) {
      expect(result.errors).toEqual({})
      // 50 clients x 5 calls, plus one final call each.
      expect(result.acked).toBe(50 * 6)
      expect(result.finalOk).toBe(true)
      expect(result.statuses).toEqual(Array(50).fill('connected'))
    }
    const latency = done.map((d) => d.latencyMs as { p50: number; max: number })
    console.log(
      `200 clients: 1,200 calls in ${ms.toFixed(0)} ms; p50 per process ${latency.map((l) => l.p50.toFixed(1)).join('/')} ms, ` +
        `max ${latency.map((l) => l.max.toFixed(1)).join('/')} ms`,
    )
    const view = await server.view()
    expect(view.state.counter).toBe(4 * 50 * 6)
    expect(view.version).toBe(4 * 50 * 6)
    await Promise.all(callers.map((caller) => caller.exited))
    await vi.waitFor(async () => expect((await server.stats()).connections).toBe(0), { timeout: 10_000, interval: 20 })
    expect(crashLines(server.process)).toEqual([])
  })

  it('close() during a stream of calls: every applied call was acknowledged, clients move to the next server', async () => {
    await using dir = await tempSocketRoot()
    await using first = await startServer(dir)
    const hammer = (replica: boolean) =>
      startLoadClient(dir, {
        IPC_STATE_CALLS: '0',
        IPC_STATE_CONCURRENCY: '4',
        IPC_STATE_PROGRESS_AT: '200',
        IPC_STATE_REPLICA: replica ? '1' : '0',
      })
    await using a = hammer(true)
    await using b = hammer(false)
    const callers = [a, b]
    await Promise.all(callers.map((caller) => caller.waitFor('progress')))

    // SIGTERM: the fixture calls server.close() and prints the final version.
    const marks = callers.map((caller) => caller.events.length)
    expect(await first.process.stop('SIGTERM')).toEqual({ code: 0, signal: null })
    const closed = await first.process.waitFor('closed')
    await expect(lstat(first.path)).rejects.toMatchObject({ code: 'ENOENT' })
    // Every client noticed and is trying to get back.
    const lost = await Promise.all(
      callers.map((caller, i) => eventAfter(caller, marks[i]!, (e) => e.event === 'status' && e.status === 'reconnecting')),
    )

    await using second = await startServer(dir)
    expect(second.path).toBe(first.path)
    // Back on their own, with no help from the test.
    await Promise.all(
      callers.map((caller, i) => eventAfter(caller, lost[i]!, (e) => e.event === 'status' && e.status === 'connected')),
    )
    const done = await Promise.all(callers.map((caller) => ask(caller, 'stop', 'done')))

    const byEpoch = (epoch: string) => done.reduce((sum, d) => sum + ((d.ackedByEpoch as Record<string, number>)[epoch] ?? 0), 0)
    const ackedFirst = byEpoch(first.epoch)
    const ackedSecond = byEpoch(second.epoch)
    const secondView = await second.view()
    console.log(
      `close under load: first server applied ${String(closed.version)} calls, ${ackedFirst} acknowledged to clients; ` +
        `second server applied ${secondView.version}, ${ackedSecond} acknowledged; errors ${JSON.stringify(done.map((d) => d.errors))}`,
    )
    // Every acknowledged call is in the closing server's final state, and no applied call went unanswered.
    expect(ackedFirst).toBeGreaterThanOrEqual(400)
    expect(closed.version).toBeGreaterThanOrEqual(ackedFirst)
    expect(closed.version).toBe(ackedFirst)
    // Every acknowledgement came from one of the two servers.
    for (const d of done) {
      expect(Object.keys(d.ackedByEpoch as object).sort()).toEqual([first.epoch, second.epoch].sort())
      for (const code of Object.keys(d.errors as object)) expect(RETRYABLE_ERROR_CODES).toContain(code)
      expect(d.finalOk).toBe(true)
      expect(d.statuses).toEqual(['connected'])
      expect(d.epochs).toEqual([second.epoch])
    }
    // The calls resent after the reconnect were applied once each on the new server.
    expect(secondView.version).toBe(ackedSecond)
    expect(secondView.state.counter).toBe(ackedSecond)
    expect(crashLines(first.process)).toEqual([])
    expect(crashLines(second.process)).toEqual([])
  })
})
