// A client given several servers' addresses: it moves to another server of its store when its own is
// SIGKILLed, with every call applied once; it waits for any of them to come back; and it refuses a
// server at another address that serves another store.
import { describe, expect, it } from 'vitest'
import { startClient } from '../src/processes/client-fixture.js'
import { serverPath } from '../src/processes/fixture-env.js'
import { type FixtureEvent, type FixtureProcess, ask, tempSocketRoot } from '../src/processes/processes.js'
import { startServer } from '../src/processes/server-fixture.js'
import { randomInt, seededRandom, testSeed } from '../src/seeded-random.js'
import { startRedisServer } from '../src/storage/redis-server.js'
import type { BurstResult, Report } from '../src/storage/shared-run.js'
import { untilVersion } from '../src/storage/shared-run.js'
import { startSharedServers } from '../src/storage/shared-servers.js'
import type { TestState } from '../src/stores/test-store.js'

const CALLS = 1_000
/** Calls in flight at once: as many series of calls, one after the other each. */
const SERIES = 8
/** A call waits through the kill and the move on a busy machine, rather than time out uncounted. */
const CALL_TIMEOUT_MS = '120000'

/** Resolves once `client` has scheduled `count` more retries than it had. */
function retries(client: FixtureProcess, count: number): Promise<FixtureEvent> {
  const after = client.events.length
  let seen = 0
  return client.waitFor((event) => event.event === 'retry' && ++seen >= count, { after })
}

/** The paths a client reported with each status change, in order. */
const statuses = (client: FixtureProcess) =>
  client.events.filter((event) => event.event === 'status').map((event) => [event.status, event.path])

describe('a client given failover addresses', () => {
  it(`moves to the other server of its store when its own is SIGKILLed, ${CALLS} calls each applied once`, async () => {
    const random = seededRandom(testSeed())
    await using redis = await startRedisServer()
    await using sockets = await tempSocketRoot()
    await using servers = await startSharedServers(2, sockets.socketRoot, { url: redis.url, key: 'failover' })
    const [a, b] = [servers[0]!, servers[1]!]
    await using client = startClient(a.address, {
      IPC_STATE_FAILOVER_IDS: b.address.id,
      IPC_STATE_TIMEOUT: CALL_TIMEOUT_MS,
      IPC_STATE_WATCH: '1',
    })
    await client.waitFor('connected')
    const writing = Promise.all(
      Array.from({ length: SERIES }, () => ask(client, { op: 'serial', action: 'increment', count: CALLS / SERIES })),
    ) as Promise<(FixtureEvent & BurstResult)[]>
    // Killed at a moment of the run the seed picks, once some calls were answered.
    await untilVersion(a, randomInt(random, CALLS / 10, (CALLS * 7) / 10))
    await a.process.stop('SIGKILL')
    const results = await writing
    for (const result of results) expect([result.crashed, result.errors]).toEqual([undefined, []])
    // Each increment returned the counter it made: 1 to 1,000, once each, so none was lost or applied twice.
    const values = results.flatMap((result) => result.values as number[]).sort((x, y) => x - y)
    expect(values).toEqual(Array.from({ length: CALLS }, (_, i) => i + 1))
    await untilVersion(b, CALLS)
    const view = (await ask(b.process, 'state')) as FixtureEvent & { version: number; state: TestState }
    expect([view.version, view.state.counter]).toEqual([CALLS, CALLS])
    const report = (await ask(client, { op: 'report', until: { version: CALLS } })) as FixtureEvent & Report & { path: string }
    expect([report.version, report.state.counter, report.path]).toEqual([CALLS, CALLS, serverPath(sockets.socketRoot, b.address)])
    // The replica never stepped back, moving to a server that may not yet have followed its last change.
    expect(report.versions).toEqual([...new Set(report.versions)].sort((x, y) => x - y))
    expect(statuses(client)).toEqual([
      ['reconnecting', serverPath(sockets.socketRoot, a.address)],
      ['connected', serverPath(sockets.socketRoot, b.address)],
    ])
  })

  it('keeps trying every address while none answers, and comes back when one server starts again', async () => {
    await using redis = await startRedisServer()
    await using sockets = await tempSocketRoot()
    await using servers = await startSharedServers(2, sockets.socketRoot, { url: redis.url, key: 'outage' })
    const [a, b] = [servers[0]!, servers[1]!]
    await using client = startClient(a.address, { IPC_STATE_FAILOVER_IDS: b.address.id, IPC_STATE_REPORT_RETRIES: '1' })
    await client.waitFor('connected')
    expect(await ask(client, { op: 'call', action: 'increment', input: 3 })).toMatchObject({ value: 3 })
    await Promise.all(servers.map((server) => server.process.stop('SIGKILL')))
    // Each address tried a few times over, in vain.
    await retries(client, 6)
    const during = (await ask(client, { op: 'report' })) as FixtureEvent & Report & { status: string }
    expect([during.status, during.state.counter]).toEqual(['reconnecting', 3])
    await b.restart()
    const report = (await ask(client, { op: 'report', until: { status: 'connected' } })) as FixtureEvent & Report & { path: string }
    expect(report.path).toBe(serverPath(sockets.socketRoot, b.address))
    expect(await ask(client, { op: 'call', action: 'increment', input: 1 })).toMatchObject({ value: 4 })
  })

  it('refuses a server at another address that serves another store, and takes its own server back', async () => {
    await using sockets = await tempSocketRoot()
    const start = (id: string) => startServer({ socketRoot: sockets.socketRoot, id })
    await using a = await start('a')
    await using unrelated = await start('b')
    await using client = startClient(a.address, { IPC_STATE_FAILOVER_IDS: unrelated.id, IPC_STATE_LOG: '1' })
    await client.waitFor('connected')
    expect(await ask(client, { op: 'call', action: 'increment', input: 3 })).toMatchObject({ value: 3 })
    await a.process.stop('SIGKILL')
    // Greeted by the other server, the client drops it at once, more than once, and never connects there.
    const refusedOrConnected = (event: FixtureEvent) =>
      (event.event === 'log' && event.message === 'a server at another address serves another store; trying the next') ||
      (event.event === 'status' && event.status === 'connected')
    const first = await client.waitFor(refusedOrConnected, { after: client.events.length })
    expect(first).toMatchObject({ level: 'warn', path: unrelated.path, epoch: unrelated.epoch, known: a.epoch })
    const second = await client.waitFor(refusedOrConnected, { after: client.events.indexOf(first) + 1 })
    expect(second).toMatchObject({ level: 'warn', path: unrelated.path })
    const during = (await ask(client, { op: 'report' })) as FixtureEvent & Report & { status: string }
    expect([during.status, during.epoch, during.state.counter]).toEqual(['reconnecting', a.epoch, 3])
    // Its own server, started again in memory, is a new run of the same address: taken, as by any client.
    await using again = await start('a')
    const report = (await ask(client, { op: 'report', until: { status: 'connected' } })) as FixtureEvent & Report & { path: string }
    expect([report.path, report.epoch, report.state.counter]).toEqual([again.path, again.epoch, 0])
  })
})
