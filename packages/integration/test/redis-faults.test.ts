// Servers sharing a store in Redis when Redis goes away and comes back, and when it refuses them.
import { describe, expect, it } from 'vitest'
import { startClient } from '../src/processes/client-fixture.js'
import { addressEnv, fixtureAddress } from '../src/processes/fixture-env.js'
import { type FixtureEvent, ask, disposeAll, fixture, startFixture, tempSocketRoot } from '../src/processes/processes.js'
import { startRedisServer } from '../src/storage/redis-server.js'
import { type BurstResult, untilVersion } from '../src/storage/shared-run.js'
import { sharedStoreEnv, startSharedServers } from '../src/storage/shared-servers.js'
import type { TestState } from '../src/stores/test-store.js'

const SERVERS = 2
/** Messages each writer sends, one after the other. */
const CALLS = 1_500

describe('servers sharing a store in Redis, when Redis fails', () => {
  it('Redis stopped mid-run and started again: calls fail BACKEND_UNAVAILABLE or succeed, each acknowledged one counts once', async () => {
    await using redis = await startRedisServer({ appendonly: true, password: 'a secret' })
    await using sockets = await tempSocketRoot()
    await using servers = await startSharedServers(SERVERS, sockets.socketRoot, { url: redis.url, key: 'outage' })
    await using writers = disposeAll(servers.map((server) => startClient(server.address)))
    await Promise.all(writers.map((writer) => writer.waitFor('connected')))
    const writing = Promise.all(
      writers.map((writer, i) => ask(writer, { op: 'serial', action: 'addMessage', count: CALLS, inputPrefix: `w${i}-` })),
    ) as Promise<(FixtureEvent & BurstResult)[]>

    await untilVersion(servers[0]!, CALLS / 4)
    await redis.stop()
    // While Redis is away, a call fails at once and says so; replicas and servers still serve reads.
    for (const writer of writers) {
      const outcome = await ask(writer, { op: 'call', action: 'increment', input: 1 })
      expect(outcome.code).toBe('BACKEND_UNAVAILABLE')
      expect(String(outcome.message)).not.toContain('a secret')
      const report = await ask(writer, { op: 'report' })
      expect((report.state as TestState).messages.length).toBeGreaterThan(0)
    }
    for (const server of servers)
      expect(((await ask(server.process, 'state')) as FixtureEvent & { version: number }).version).toBeGreaterThan(0)
    await redis.start()
    const results = await writing

    // Back by itself: each server takes calls again (asked until one succeeds, then once more).
    for (const writer of writers) {
      while ((await ask(writer, { op: 'call', action: 'increment', input: 1 })).code !== undefined) {}
      expect((await ask(writer, { op: 'call', action: 'increment', input: 1 })).code).toBeUndefined()
    }
    const views = (await Promise.all(servers.map((server) => ask(server.process, 'state')))) as (FixtureEvent & {
      version: number
      state: TestState
    })[]
    const { state, version } = views[0]!
    for (const view of views) expect({ version: view.version, state: view.state }).toEqual({ version, state })

    const texts = state.messages.map((message) => message.text)
    expect(new Set(texts).size).toBe(texts.length)
    let failed = 0
    let appliedAnyway = 0
    results.forEach((result, w) => {
      expect(result.crashed).toBeUndefined()
      for (const error of result.errors) expect(error.code).toBe('BACKEND_UNAVAILABLE')
      failed += result.errors.length
      const failedIndexes = new Set(result.errors.map((error) => error.i))
      for (let i = 0; i < CALLS; i++) {
        const present = texts.includes(`w${w}-${i}`)
        if (!failedIndexes.has(i)) expect(present, `acknowledged message w${w}-${i}`).toBe(true)
        else if (present) appliedAnyway += 1
      }
    })
    // Every message in the state was sent by a writer, and the acknowledged ones are all there.
    expect(texts.length).toBe(SERVERS * CALLS - failed + appliedAnyway)
    expect(failed).toBeGreaterThan(0)
    // Each server said when Redis went away and when it was back, and nothing printed the password.
    for (const server of servers) {
      const logs = server.process.events.filter((event) => event.event === 'log').map((event) => String(event.message))
      expect(logs.some((message) => /is unreachable: calls fail with BACKEND_UNAVAILABLE/.test(message))).toBe(true)
      expect(logs.some((message) => /answers again/.test(message))).toBe(true)
      expect(JSON.stringify(server.process.events) + server.process.output.join('\n')).not.toMatch(
        /a secret|a%20secret|Unhandled error/,
      )
    }
    console.log(
      `Redis outage: ${failed} calls failed BACKEND_UNAVAILABLE, ${appliedAnyway} of them applied (their answer was lost)`,
    )
  })

  it('Redis paused 5 s mid-run: calls wait and go on, each acknowledged one counts once, and no server takes the pause for damage', async () => {
    await using redis = await startRedisServer()
    await using sockets = await tempSocketRoot()
    await using servers = await startSharedServers(SERVERS, sockets.socketRoot, { url: redis.url, key: 'paused' })
    await using writers = disposeAll(servers.map((server) => startClient(server.address)))
    await Promise.all(writers.map((writer) => writer.waitFor('connected')))
    const writing = Promise.all(writers.map((writer) => ask(writer, { op: 'serial', action: 'increment', count: 300 }))) as Promise<
      (FixtureEvent & BurstResult)[]
    >
    await untilVersion(servers[0]!, 100)
    redis.signal('SIGSTOP')
    // The fault itself lasts 5 s: no readiness is awaited here.
    await new Promise((resolve) => setTimeout(resolve, 5_000))
    redis.signal('SIGCONT')
    const results = await writing

    let acknowledged = 0
    let failed = 0
    for (const result of results) {
      expect(result.crashed).toBeUndefined()
      for (const error of result.errors) expect(['BACKEND_UNAVAILABLE', 'TIMEOUT']).toContain(error.code)
      acknowledged += result.values.length
      failed += result.errors.length
    }
    for (const server of servers) await untilVersion(server, acknowledged)
    const views = (await Promise.all(servers.map((server) => ask(server.process, 'state')))) as (FixtureEvent & {
      version: number
      state: TestState
    })[]
    for (const view of views) expect([view.version, view.state]).toEqual([views[0]!.version, views[0]!.state])
    // A call that failed may have been applied (its answer was lost), none acknowledged was lost.
    expect(views[0]!.state.counter).toBeGreaterThanOrEqual(acknowledged)
    expect(views[0]!.state.counter).toBeLessThanOrEqual(acknowledged + failed)
    for (const server of servers) {
      expect(
        server.process.events.filter((event) => event.event === 'log' && /refuses every change/.test(String(event.message))),
      ).toEqual([])
    }
    expect((await ask(writers[0]!, { op: 'call', action: 'increment', input: 1 })).code).toBeUndefined()
  })

  it('a wrong password: the server does not start, and says why without the password', async () => {
    await using redis = await startRedisServer({ password: 'the right one' })
    await using sockets = await tempSocketRoot()
    const address = fixtureAddress({ socketRoot: sockets.socketRoot })
    const url = `${redis.path}?password=${encodeURIComponent('not the right one')}`
    await using server = startFixture(fixture('servers/shared-server.ts'), {
      env: { ...addressEnv(address), ...sharedStoreEnv({ url, key: 'k' }) },
    })
    const error = await server.waitFor('error')
    expect(error.code).toBe('BACKEND_UNAVAILABLE')
    expect(String(error.message)).toContain(`Redis at ${redis.path}?password=***`)
    expect(String(error.message)).toMatch(/refused the user name or password/)
    expect(JSON.stringify(error)).not.toContain('right one')
    expect(JSON.stringify(server.output)).not.toContain('right one')
    expect((await server.exited).code).toBe(1)
  })
})
