// Several servers share one store in a real redis-server: one total order, exactly once, every
// replica on every server at the same state and version, even when a server is killed mid-run.
import { describe, expect, it, vi } from 'vitest'
import { type FixtureEvent, ask, tempSocketRoot } from '../src/processes/processes.js'
import { RawClient } from '../src/peers/raw-client.js'
import { startClient } from '../src/processes/client-fixture.js'
import { startRedisServer } from '../src/storage/redis-server.js'
import { type BurstResult, expectOneState, startSharedClients, untilVersion, writeAll } from '../src/storage/shared-run.js'
import { startSharedServers, writerOf } from '../src/storage/shared-servers.js'
import { serverPath } from '../src/processes/fixture-env.js'
import type { TestState } from '../src/stores/test-store.js'

const SERVERS = 3
const WRITERS_PER_SERVER = 2
/** Increments, and as many messages, per writer. */
const CALLS = 500
const WRITERS = SERVERS * WRITERS_PER_SERVER
/**
 * Versions between snapshots when a server is killed: a few snapshots in the run, and enough log
 * kept that a server slowed down by a busy machine catches up from it rather than reload.
 */
const SNAPSHOT_EVERY = 1_000

/**
 * Every call of every writer was answered with success. Checked before waiting for the servers to
 * reach the final version: a failed call means they never will, and its error says why.
 */
function expectEveryCallAnswered(results: BurstResult[]): void {
  for (const result of results) {
    expect(result.crashed).toBeUndefined()
    expect(result.errors).toEqual([])
    expect(result.values).toHaveLength(CALLS)
  }
}

/** Each change of the writers is in the state once. */
function expectEveryCallOnce(results: BurstResult[], state: TestState): void {
  expect(state.counter).toBe(WRITERS * CALLS)
  // Each increment returned the counter it made: together, 1 to the total, once each.
  const counters = results.filter((_, i) => i % 2 === 0).flatMap((result) => result.values as number[])
  expect(counters.sort((a, b) => a - b)).toEqual(Array.from({ length: WRITERS * CALLS }, (_, i) => i + 1))
  const texts = state.messages.map((message) => message.text).sort()
  const expected = Array.from({ length: WRITERS }, (_, w) => Array.from({ length: CALLS }, (_, n) => `w${w}-${n}`)).flat()
  expect(texts).toEqual(expected.sort())
  expect(state.messages.map((message) => message.id)).toEqual(Array.from({ length: WRITERS * CALLS }, (_, i) => i + 1))
}

describe('servers sharing one store in Redis', () => {
  it(`${SERVERS} servers, ${WRITERS_PER_SERVER} writers and a watcher each: every call applied once, every replica alike`, async () => {
    await using redis = await startRedisServer()
    await using sockets = await tempSocketRoot()
    await using servers = await startSharedServers(SERVERS, sockets.socketRoot, { url: redis.url, key: 'shared' })
    await using clients = await startSharedClients(servers, WRITERS_PER_SERVER)
    const results = await writeAll(clients.writers, CALLS)
    expectEveryCallAnswered(results)
    const state = await expectOneState(servers, clients, 2 * WRITERS * CALLS)
    expectEveryCallOnce(results, state)
  })

  it('a call answered by one server and resent to another is answered from the record, not applied again', async () => {
    await using redis = await startRedisServer()
    await using sockets = await tempSocketRoot()
    await using servers = await startSharedServers(2, sockets.socketRoot, { url: redis.url, key: 'roaming' })
    const [a, b] = [servers[0]!, servers[1]!]
    const path = (server: (typeof servers)[number]) => serverPath(sockets.socketRoot, server.address)
    await using first = await RawClient.hello(path(a), { clientId: 'roamer', instanceId: 'roamer' })
    const call = { type: 'action/call', data: { id: 5, action: 'increment', input: 7 } } as const
    const answered = await first.request(call)
    expect(answered.data.result).toEqual({ value: 7, version: 1 })
    // Its answer was lost on the way (say server a died): the client comes back through server b,
    // once b has followed the change.
    await untilVersion(b, 1)
    await using second = await RawClient.hello(path(b), { clientId: 'roamer', instanceId: 'roamer', id: 6 })
    expect((await second.request(call)).data).toEqual(answered.data)
    expect((await second.request({ type: 'action/call', data: { id: 7, action: 'increment', input: 1 } })).data.result).toEqual({
      value: 8,
      version: 2,
    })
    for (const server of servers) {
      const view = (await ask(server.process, 'state')) as FixtureEvent & { version: number; state: TestState }
      expect([view.version, view.state.counter]).toEqual([2, 8])
    }
  })

  it('a server refused the turn is named next, and takes it when the holder writes: each call once, and no turn left over', async () => {
    await using redis = await startRedisServer()
    await using sockets = await tempSocketRoot()
    // Servers that each run their own clients' calls race for the turn.
    await using servers = await startSharedServers(2, sockets.socketRoot, { url: redis.url, key: 'turns', relayCalls: false })
    await using clients = await startSharedClients(servers, 1)
    const turn = () => redis.command('GET', 'turns:turn')
    // A server that lost a race and died before it wrote again: its turn stays until it runs out.
    await redis.command('SET', 'turns:turn', 'ghost', 'PX', '60000')
    const second = ask(clients.writers[1]!, { op: 'call', action: 'increment', input: 2 })
    await vi.waitFor(async () => expect(await turn()).toMatch(/^ghost \S+$/), { timeout: 30_000, interval: 20 })
    const next = (await turn()).split(' ')[1]!
    // Each server's id is in its lease's key.
    const leases = (await redis.command('KEYS', 'turns:server:*')).split('\n').map((key) => key.slice('turns:server:'.length))
    expect(leases).toHaveLength(2)
    expect(leases).toContain(next)
    const holder = leases.find((id) => id !== next)!
    // The other server holds the turn, with a call of its own to write: once it wrote, the turn is
    // the named server's, and its call runs on top of the holder's change.
    await redis.command('SET', 'turns:turn', `${holder} ${next}`, 'PX', '60000')
    const first = await ask(clients.writers[0]!, { op: 'call', action: 'increment', input: 1 })
    expect(first.value).toBe(1)
    expect((await second).value).toBe(3)
    expect(await turn()).toBe('')
    for (const server of servers) await untilVersion(server, 2)
  })

  it('a turn another program left, one that never runs out or is not a string, is dropped: calls go on', async () => {
    await using redis = await startRedisServer()
    await using sockets = await tempSocketRoot()
    await using servers = await startSharedServers(1, sockets.socketRoot, { url: redis.url, key: 'junk' })
    // A call waiting for a turn that never ends would time out: long before the test does.
    await using client = startClient(servers[0]!.address, { IPC_STATE_REPLICA: '0', IPC_STATE_TIMEOUT: '20000' })
    await client.waitFor('connected')
    await redis.command('SET', 'junk:turn', 'someone')
    expect(await ask(client, { op: 'call', action: 'increment', input: 1 })).toMatchObject({ value: 1 })
    await redis.command('HSET', 'junk:turn', 'holder', 'someone')
    expect(await ask(client, { op: 'call', action: 'increment', input: 1 })).toMatchObject({ value: 2 })
    expect(await redis.command('EXISTS', 'junk:turn')).toBe('0')
  })

  it('the writer server killed mid-run and restarted: another takes over, its clients come back, and every call is still applied once', async () => {
    await killTrial([(2 * WRITERS * CALLS) / 4])
  })

  it('the writer server killed twice while the writers call: another takes over, every acknowledged call counted once, no watcher skips a version', async () => {
    await killTrial([(2 * WRITERS * CALLS) / 4, (2 * WRITERS * CALLS * 5) / 8])
  })
})

/**
 * Runs every writer of 3 servers and SIGKILLs the writer server (the one that runs every call) once
 * the store reaches each of `killAt`, restarting it at once: another server takes over the calls,
 * every call is answered and applied once, every process ends at one state and version, and every
 * watcher saw each version in order, skipping only across a resync it was told of (its server's,
 * after each kill).
 */
async function killTrial(killAt: readonly number[]): Promise<void> {
  await using redis = await startRedisServer()
  await using sockets = await tempSocketRoot()
  // The restarted server loads a snapshot and the log after it.
  await using servers = await startSharedServers(SERVERS, sockets.socketRoot, {
    url: redis.url,
    key: 'shared',
    snapshotEvery: SNAPSHOT_EVERY,
  })
  await using clients = await startSharedClients(servers, WRITERS_PER_SERVER)
  const writing = writeAll(clients.writers, CALLS)
  // Killed while the run is well under way, past a few snapshots, while its writers still call.
  const kills = servers.map(() => 0)
  for (const version of killAt) {
    await untilVersion(servers[0]!, version)
    const victim = await writerOf(servers, redis, 'shared')
    const index = servers.indexOf(victim)
    const victimWriter = clients.writers[index * WRITERS_PER_SERVER + 1]!
    await victim.process.stop('SIGKILL')
    kills[index]! += 1
    const done = victimWriter.events.filter((event) => event.event === 'done').length
    // Its writer's two runs of calls were both still under way when their server died.
    expect(done).toBeLessThan(2)
    await victim.restart()
  }
  const results = await writing
  expectEveryCallAnswered(results)
  const killedWatchers = clients.watchers.filter((_, index) => kills[index]! > 0)
  const state = await expectOneState(servers, clients, 2 * WRITERS * CALLS, killedWatchers)
  expectEveryCallOnce(results, state)
  servers.forEach((_, index) => {
    const ownClients = [
      ...clients.writers.slice(index * WRITERS_PER_SERVER, (index + 1) * WRITERS_PER_SERVER),
      clients.watchers[index]!,
    ]
    for (const client of ownClients) {
      const statuses = client.events.filter((event) => event.event === 'status').map((event) => event.status)
      expect(statuses).toEqual(Array.from({ length: kills[index]! }, () => ['reconnecting', 'connected']).flat())
    }
  })
  // Snapshots were written and the log trimmed below the one before the latest: bounded.
  expect(Number(await redis.command('HGET', 'shared:meta', 'snapshot'))).toBeGreaterThan(2 * WRITERS * CALLS - 2 * SNAPSHOT_EVERY)
  expect(Number(await redis.command('XLEN', 'shared:log'))).toBeLessThanOrEqual(3 * SNAPSHOT_EVERY)
}
