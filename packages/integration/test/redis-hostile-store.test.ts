// Servers sharing a store in Redis when what Redis holds is not what they wrote: an entry another
// program added, a change that does not apply, an entry far larger than any change, a store
// flushed and made again, a store migrated by a newer server, a user whose ACL lacks a command.
// Each server says what is wrong, refuses changes with a code that is not retryable, keeps serving
// reads, and stops asking Redis.
import { spawn } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { startClient } from '../src/processes/client-fixture.js'
import { addressEnv, fixtureAddress } from '../src/processes/fixture-env.js'
import {
  type FixtureEvent,
  type FixtureProcess,
  ask,
  disposeAll,
  fixture,
  startFixture,
  tempSocketRoot,
} from '../src/processes/processes.js'
import { type RedisServer, startRedisServer } from '../src/storage/redis-server.js'
import { type BurstResult, untilVersion } from '../src/storage/shared-run.js'
import { type SharedServer, sharedStoreEnv, startSharedServers } from '../src/storage/shared-servers.js'
import type { TestState } from '../src/stores/test-store.js'

type ServerView = FixtureEvent & { version: number; state: TestState }

const MiB = 1024 * 1024
/** An event loop stalled longer than this is blocked, whatever the machine's load. */
const MAX_LAG_MS = 1000

/** What a server fixture cost since its last `watch` (see src/processes/cost-watch.ts). */
type Costs = FixtureEvent & { rss: number; peakRss: number; maxLagMs: number }

/** Runs `args` through redis-cli, `last` read from stdin as the last argument: too long for a command line. */
function commandWithLast(redis: RedisServer, args: string[], last: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const cli = spawn('redis-cli', ['-s', redis.path, '-x', ...args], { stdio: ['pipe', 'pipe', 'inherit'] })
    let out = ''
    cli.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString()
    })
    cli.on('error', reject)
    cli.on('close', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`redis-cli exited with ${code}`))))
    cli.stdin.end(last)
  })
}

/**
 * `bytes` of JSON patches that each apply (the counter set to 1 again and again): a change that no
 * server with a small `maxStateBytes` makes, and that costs seconds to parse and apply.
 */
function hugePatches(bytes: number): Buffer {
  const patch = '{"op":"replace","path":["counter"],"value":1}'
  const count = Math.ceil(bytes / (patch.length + 1))
  return Buffer.from(`[${Array.from({ length: count }, () => patch).join(',')}]`)
}

/** Commands Redis has run since it started, `INFO` included. */
async function commandsRun(redis: RedisServer): Promise<number> {
  const match = /total_commands_processed:(\d+)/.exec(await redis.command('INFO', 'stats'))
  return Number(match![1])
}

/** Resolves with the error `server` logs whose message matches `pattern`. */
function loggedError(server: FixtureProcess, pattern: RegExp): Promise<FixtureEvent> {
  return server.waitFor((event) => event.event === 'log' && event.level === 'error' && pattern.test(String(event.message)))
}

/**
 * Calls `count` increments through each writer, each refused with `code` at once, and checks that
 * the servers asked Redis nothing for them: Redis ran no command between the two counts but the
 * counting ones (an `INFO` each, and redis-cli's own hello at most).
 */
async function expectRefusedWithoutRedis(redis: RedisServer, writers: FixtureProcess[], code: string): Promise<void> {
  const before = await commandsRun(redis)
  for (const writer of writers) {
    const refused = (await ask(writer, { op: 'burst', action: 'increment', count: 20 })) as FixtureEvent & BurstResult
    expect(refused.values).toEqual([])
    expect(new Set(refused.errors.map((error) => error.code))).toEqual(new Set([code]))
  }
  expect((await commandsRun(redis)) - before).toBeLessThanOrEqual(3)
}

/** Each server's view, all at one version and state, which it returns. */
async function oneView(servers: readonly SharedServer[]): Promise<ServerView> {
  const views = (await Promise.all(servers.map((server) => ask(server.process, 'state')))) as ServerView[]
  for (const view of views) expect([view.version, view.state]).toEqual([views[0]!.version, views[0]!.state])
  return views[0]!
}

/** Writes `count` increments through each writer, one after the other, and returns the acknowledged ones. */
async function incrementAll(writers: FixtureProcess[], count: number): Promise<number> {
  const results = (await Promise.all(
    writers.map((writer) => ask(writer, { op: 'serial', action: 'increment', count })),
  )) as (FixtureEvent & BurstResult)[]
  return results.reduce((sum, result) => sum + result.values.length, 0)
}

describe('servers sharing a store in Redis, when Redis holds what they did not write', () => {
  it('an entry another program added to the log: every server refuses it by name, serves reads, and stops asking Redis', async () => {
    await using redis = await startRedisServer()
    await using sockets = await tempSocketRoot()
    await using servers = await startSharedServers(2, sockets.socketRoot, { url: redis.url, key: 'foreign' })
    await using writers = disposeAll(servers.map((server) => startClient(server.address)))
    await Promise.all(writers.map((writer) => writer.waitFor('connected')))
    const acknowledged = await incrementAll(writers, 10)
    for (const server of servers) await untilVersion(server, acknowledged)

    const id = await redis.command('XADD', 'foreign:log', '*', 'hello', 'world')
    const pattern = new RegExp(`foreign:log, entry ${id}`)
    // Each server names the key and the entry, once it reads it or tries to write after it.
    for (const writer of writers) {
      const outcome = await ask(writer, { op: 'call', action: 'increment', input: 1 })
      expect(outcome.code).toBe('STORE_DAMAGED')
      expect(String(outcome.message)).toMatch(pattern)
    }
    for (const server of servers) expect((await loggedError(server.process, pattern)).code).toBe('STORE_DAMAGED')
    await expectRefusedWithoutRedis(redis, writers, 'STORE_DAMAGED')

    // Reads go on: every acknowledged call is in the state, on each server and each replica.
    const view = await oneView(servers)
    expect([view.version, view.state.counter]).toEqual([acknowledged, acknowledged])
    for (const writer of writers) {
      const report = (await ask(writer, { op: 'report' })) as FixtureEvent & { state: TestState }
      expect(report.state.counter).toBe(acknowledged)
    }
    // A server that starts on the store now does not start, and names the entry too.
    await using late = startFixture(fixture('servers/shared-server.ts'), {
      env: {
        ...addressEnv(fixtureAddress({ socketRoot: sockets.socketRoot, id: 'late' })),
        ...sharedStoreEnv({ url: redis.url, key: 'foreign' }),
      },
    })
    const refused = await late.waitFor((event) => event.event === 'ready' || event.event === 'error')
    expect([refused.event, refused.code]).toEqual(['error', 'STORE_DAMAGED'])
    expect(String(refused.message)).toMatch(pattern)
  })

  it('a well-formed change that does not apply: no server loops on it, calls fail STORE_DAMAGED at once, Redis goes quiet', async () => {
    await using redis = await startRedisServer()
    await using sockets = await tempSocketRoot()
    await using servers = await startSharedServers(2, sockets.socketRoot, { url: redis.url, key: 'unfit' })
    await using writers = disposeAll(servers.map((server) => startClient(server.address)))
    await Promise.all(writers.map((writer) => writer.waitFor('connected')))
    // Both servers write while the entry lands: it comes to one through its log reader, to another
    // as a lost race, whichever is first.
    const writing = Promise.all(writers.map((writer) => ask(writer, { op: 'serial', action: 'increment', count: 400 }))) as Promise<
      (FixtureEvent & BurstResult)[]
    >
    await untilVersion(servers[0]!, 50)
    // Appended as the commit script appends a change, at the next version, in one step.
    const bad = await redis.command(
      'EVAL',
      `local v = tonumber(redis.call('HGET', KEYS[1], 'version')) + 1
       redis.call('XADD', KEYS[2], v .. '-0', 't', 'c', 'i', '', 'n', '0', 'p', ARGV[1], 'v', '', 'h', '0', 'a', '', 'k', '')
       redis.call('HSET', KEYS[1], 'version', v, 'seq', 0)
       return v`,
      '2',
      'unfit:meta',
      'unfit:log',
      JSON.stringify([{ op: 'replace', path: ['nothing', 'here'], value: 1 }]),
    )
    const results = await writing
    const pattern = new RegExp(`unfit:log, entry ${bad}-0`)
    for (const server of servers) expect((await loggedError(server.process, pattern)).code).toBe('STORE_DAMAGED')

    // Every call either counts or failed STORE_DAMAGED (none timed out), and the ones that counted
    // are the state, the same on both servers, at the version before the entry.
    let acknowledged = 0
    for (const result of results) {
      for (const error of result.errors) expect(error.code).toBe('STORE_DAMAGED')
      expect(result.errors.length).toBeGreaterThan(0)
      acknowledged += result.values.length
    }
    const view = await oneView(servers)
    expect([view.version, view.state.counter]).toEqual([Number(bad) - 1, acknowledged])
    await expectRefusedWithoutRedis(redis, writers, 'STORE_DAMAGED')
  })

  it("a well-formed change that leaves the state unlike the store's: a server starting on the store refuses it by name", async () => {
    await using redis = await startRedisServer()
    await using sockets = await tempSocketRoot()
    const start = (id: string) =>
      startFixture(fixture('servers/shared-server.ts'), {
        env: {
          ...addressEnv(fixtureAddress({ socketRoot: sockets.socketRoot, id })),
          ...sharedStoreEnv({ url: redis.url, key: 'shape' }),
        },
      })
    {
      await using first = start('first')
      await first.waitFor('ready')
    }
    // Appended as the commit script appends a change: it applies, and makes the counter a string.
    const bad = await redis.command(
      'EVAL',
      `local v = tonumber(redis.call('HGET', KEYS[1], 'version')) + 1
       redis.call('XADD', KEYS[2], v .. '-0', 't', 'c', 'i', '', 'n', '0', 'p', ARGV[1], 'v', '', 'h', '0', 'a', '', 'k', '')
       redis.call('HSET', KEYS[1], 'version', v, 'seq', 0)
       return v`,
      '2',
      'shape:meta',
      'shape:log',
      JSON.stringify([{ op: 'replace', path: ['counter'], value: 'ten' }]),
    )
    await using late = start('late')
    const refused = await late.waitFor((event) => event.event === 'ready' || event.event === 'error')
    expect([refused.event, refused.code]).toEqual(['error', 'STORE_DAMAGED'])
    expect(String(refused.message)).toMatch(new RegExp(`key shape:log, entry ${bad}-0\\).*"counter" is of kind string`))
  })

  it('FLUSHALL and a restart of one server: the other refuses the new store, and its replicas never go back', async () => {
    await using redis = await startRedisServer()
    await using sockets = await tempSocketRoot()
    await using servers = await startSharedServers(2, sockets.socketRoot, { url: redis.url, key: 'flushed' })
    const [a, b] = [servers[0]!, servers[1]!]
    await using writerB = startClient(b.address)
    await using watcherB = startClient(b.address, { IPC_STATE_WATCH: '1' })
    await Promise.all([writerB.waitFor('connected'), watcherB.waitFor('connected')])
    const before = await incrementAll([writerB], 30)
    await untilVersion(a, before)

    await redis.command('FLUSHALL')
    await a.process.stop('SIGTERM')
    await a.restart()
    await using writerA = startClient(a.address)
    await writerA.waitFor('connected')
    // The new store runs past the version B has: B must not take its changes as the next ones.
    const after = await incrementAll([writerA], before + 10)
    expect(after).toBe(before + 10)

    const outcome = await ask(writerB, { op: 'call', action: 'increment', input: 1 })
    expect(outcome.code).toBe('STORE_DAMAGED')
    expect(String(outcome.message)).toMatch(/flushed:meta/)
    expect(String(outcome.message)).toMatch(/another store/)
    expect((await loggedError(b.process, /another store/)).key).toBe('flushed:meta')
    await expectRefusedWithoutRedis(redis, [writerB], 'STORE_DAMAGED')

    // B serves what it had, and its replica saw only B's versions, none after and none back.
    const viewA = (await ask(a.process, 'state')) as ServerView
    const viewB = (await ask(b.process, 'state')) as ServerView
    expect([viewA.version, viewA.state.counter]).toEqual([after, after])
    expect([viewB.version, viewB.state.counter]).toEqual([before, before])
    const report = (await ask(watcherB, { op: 'report' })) as FixtureEvent & {
      version: number
      versions: number[]
      state: TestState
    }
    expect([report.version, report.state.counter]).toEqual([before, before])
    expect(report.versions.every((version, i) => i === 0 || version > report.versions[i - 1]!)).toBe(true)
    expect(Math.max(...report.versions)).toBe(before)
  })

  it('a server of store version 1 still running after one of version 2 migrated the store stops writing to it', async () => {
    await using redis = await startRedisServer()
    await using sockets = await tempSocketRoot()
    const store = sharedStoreEnv({ url: redis.url, key: 'versions' })
    const start = (id: string, version: string) =>
      startFixture(fixture('servers/shared-server.ts'), {
        env: {
          ...addressEnv(fixtureAddress({ socketRoot: sockets.socketRoot, id })),
          ...store,
          IPC_STATE_STORE_VERSION: version,
          IPC_STATE_LOG: '1',
        },
      })
    await using v1 = start('v1', '1')
    await v1.waitFor('ready')
    await using client1 = startClient(fixtureAddress({ socketRoot: sockets.socketRoot, id: 'v1' }), { IPC_STATE_REPLICA: '0' })
    await client1.waitFor('connected')
    for (let i = 1; i <= 5; i++) expect((await ask(client1, { op: 'call', action: 'increment', input: 1 })).value).toBe(i)

    await using v2 = start('v2', '2')
    expect((await v2.waitFor('ready')).version).toBe(6)
    const refused = await ask(client1, { op: 'call', action: 'increment', input: 1 })
    expect(refused.code).toBe('STORE_TOO_NEW')
    await loggedError(v1, /store version 2; this server runs version 1/)
    const before = await redis.command('INFO', 'stats')
    for (let i = 0; i < 10; i++)
      expect((await ask(client1, { op: 'call', action: 'increment', input: 1 })).code).toBe('STORE_TOO_NEW')
    const total = (info: string) => Number(/total_commands_processed:(\d+)/.exec(info)![1])
    expect(total(await redis.command('INFO', 'stats')) - total(before)).toBeLessThanOrEqual(3)

    // The v2 state is the migrated one, with no v1 field in it; v1 still serves its own.
    await using client2 = startClient(fixtureAddress({ socketRoot: sockets.socketRoot, id: 'v2' }), { IPC_STATE_REPLICA: '0' })
    await client2.waitFor('connected')
    expect((await ask(client2, { op: 'call', action: 'increment', input: 1 })).value).toBe(6)
    const view2 = (await ask(v2, 'state')) as FixtureEvent & { state: unknown; version: number }
    expect([view2.version, view2.state]).toEqual([7, { total: 6, people: [], migratedFrom: 1 }])
    const view1 = (await ask(v1, 'state')) as FixtureEvent & { state: unknown; version: number }
    expect([view1.version, view1.state]).toEqual([5, { counter: 5, names: [] }])
  })

  it('a change entry of 50 MB on a server of maxStateBytes 1 MiB: refused by name before it is parsed, reads go on, cheaply', async () => {
    await using redis = await startRedisServer()
    await using sockets = await tempSocketRoot()
    const address = fixtureAddress({ socketRoot: sockets.socketRoot })
    await using server = startFixture(fixture('servers/shared-server.ts'), {
      env: {
        ...addressEnv(address),
        ...sharedStoreEnv({ url: redis.url, key: 'huge' }),
        IPC_STATE_MAX_STATE_BYTES: String(MiB),
        IPC_STATE_LOG: '1',
      },
    })
    await server.waitFor('ready')
    await using writer = startClient(address, { IPC_STATE_REPLICA: '0' })
    await writer.waitFor('connected')
    const acknowledged = await incrementAll([writer], 5)
    expect(acknowledged).toBe(5)

    // The last change as the storage wrote it, its fields copied but for the patches.
    const [id, ...fields] = (await redis.command('XREVRANGE', 'huge:log', '+', '-', 'COUNT', '1')).split('\n')
    expect(id).toBe(`${acknowledged}-0`)
    const copied: string[] = []
    // A value left empty at the end is trimmed from redis-cli's output.
    for (let i = 0; i < fields.length; i += 2) if (fields[i] !== 'p') copied.push(fields[i]!, fields[i + 1] ?? '')
    expect(copied).toContain('t')
    const before = (await ask(server, 'watch')) as Costs
    const bad = `${acknowledged + 1}-0`
    expect(await commandWithLast(redis, ['XADD', 'huge:log', bad, ...copied, 'p'], hugePatches(50 * MiB))).toBe(bad)

    const pattern = new RegExp(`huge:log, entry ${bad}`)
    expect((await loggedError(server, pattern)).code).toBe('STORE_DAMAGED')
    const outcome = await ask(writer, { op: 'call', action: 'increment', input: 1 })
    expect(outcome.code).toBe('STORE_DAMAGED')
    expect(String(outcome.message)).toMatch(pattern)
    const view = (await ask(server, 'state')) as ServerView
    expect([view.version, view.state.counter]).toEqual([acknowledged, acknowledged])
    const after = (await ask(server, 'watch')) as Costs
    expect(after.maxLagMs).toBeLessThan(MAX_LAG_MS)
    // The entry's bytes as Redis sent them, and their text once: nothing parsed from them.
    expect(after.peakRss - before.rss).toBeLessThan(4 * 50 * MiB)
  })

  it('a snapshot of 50 MB on a server of maxStateBytes 1 MiB: refused unparsed at a reload, reads go on, and refused at start', async () => {
    await using redis = await startRedisServer()
    await using sockets = await tempSocketRoot()
    const start = (id: string) =>
      startFixture(fixture('servers/shared-server.ts'), {
        env: {
          ...addressEnv(fixtureAddress({ socketRoot: sockets.socketRoot, id })),
          ...sharedStoreEnv({ url: redis.url, key: 'vast' }),
          IPC_STATE_MAX_STATE_BYTES: String(MiB),
          IPC_STATE_LOG: '1',
        },
      })
    await using server = start('server')
    await server.waitFor('ready')
    await using writer = startClient(fixtureAddress({ socketRoot: sockets.socketRoot }), { IPC_STATE_REPLICA: '0' })
    await writer.waitFor('connected')
    const acknowledged = await incrementAll([writer], 5)
    expect(acknowledged).toBe(5)

    // A snapshot as the storage writes it, far ahead, with a state of 50 MB of messages; and an
    // instance record after it, so the log has a hole the server fills from the snapshot.
    const message = '{"id":1,"text":"a message of the test store","from":"c","at":1}'
    const messages = Array.from({ length: Math.ceil((50 * MiB) / (message.length + 1)) }, () => message).join(',')
    const snapshot = `{"version":100,"storeVersion":1,"instances":[],"state":{"counter":100,"messages":[${messages}]}}`
    const before = (await ask(server, 'watch')) as Costs
    expect(await commandWithLast(redis, ['SET', 'vast:snapshot'], Buffer.from(snapshot))).toBe('OK')
    expect(await redis.command('XADD', 'vast:log', '100-1', 't', 'i', 'i', 'someone', 'n', '1')).toBe('100-1')

    expect((await loggedError(server, /vast:snapshot/)).code).toBe('STORE_DAMAGED')
    const outcome = await ask(writer, { op: 'call', action: 'increment', input: 1 })
    expect(outcome.code).toBe('STORE_DAMAGED')
    expect(String(outcome.message)).toMatch(/key vast:snapshot\).*maxStateBytes/)
    const view = (await ask(server, 'state')) as ServerView
    expect([view.version, view.state.counter]).toEqual([acknowledged, acknowledged])
    const after = (await ask(server, 'watch')) as Costs
    expect(after.maxLagMs).toBeLessThan(MAX_LAG_MS)
    // The snapshot's bytes as Redis sent them: nothing parsed from them.
    expect(after.peakRss - before.rss).toBeLessThan(4 * 50 * MiB)

    // A server that starts on the store now does not start, and names the snapshot.
    await using late = start('late')
    const refused = await late.waitFor((event) => event.event === 'ready' || event.event === 'error')
    expect([refused.event, refused.code]).toEqual(['error', 'STORE_DAMAGED'])
    expect(String(refused.message)).toMatch(/key vast:snapshot\).*maxStateBytes/)
  })

  describe('a user whose ACL lacks a command the storage needs', () => {
    const startServer = (redis: RedisServer, socketRoot: string, user: string) =>
      startFixture(fixture('servers/shared-server.ts'), {
        env: {
          ...addressEnv(fixtureAddress({ socketRoot })),
          ...sharedStoreEnv({ url: `${redis.path}?username=${user}&password=pw`, key: 'acl' }),
          IPC_STATE_LOG: '1',
        },
      })

    it('is refused at start, naming the command, not taken for a wrong password', async () => {
      await using redis = await startRedisServer()
      await using sockets = await tempSocketRoot()
      await redis.command('ACL', 'SETUSER', 'noxadd', 'on', '>pw', '~*', '+@all', '-xadd')
      await using server = startServer(redis, sockets.socketRoot, 'noxadd')
      const first = await server.waitFor((event) => event.event === 'ready' || event.event === 'error')
      expect(first.event).toBe('error')
      expect(first.code).toBe('BACKEND_UNAVAILABLE')
      expect(String(first.message)).toMatch(/does not permit .*XADD acl:log/)
      expect(String(first.message)).not.toMatch(/refused the user name or password|could not be reached/)
      expect((first.data as { reason: string }).reason).toBe('permission')
      expect((await server.exited).code).toBe(1)
    })

    it('one taken away while the server runs fails calls BACKEND_UNAVAILABLE naming it, and they succeed once it is back', async () => {
      await using redis = await startRedisServer()
      await using sockets = await tempSocketRoot()
      await redis.command('ACL', 'SETUSER', 'writer', 'on', '>pw', '~*', '+@all')
      await using server = startServer(redis, sockets.socketRoot, 'writer')
      await server.waitFor('ready')
      await using client = startClient(fixtureAddress({ socketRoot: sockets.socketRoot }), { IPC_STATE_REPLICA: '0' })
      await client.waitFor('connected')
      expect((await ask(client, { op: 'call', action: 'increment', input: 1 })).value).toBe(1)

      await redis.command('ACL', 'SETUSER', 'writer', '-xadd')
      const outcome = await ask(client, { op: 'call', action: 'increment', input: 1 })
      expect(outcome.code).toBe('BACKEND_UNAVAILABLE')
      expect(String(outcome.message)).toMatch(/does not permit .*XADD acl:log/)
      expect(String(outcome.message)).not.toMatch(/refused the user name or password|could not be reached/)

      await redis.command('ACL', 'SETUSER', 'writer', '+xadd')
      expect((await ask(client, { op: 'call', action: 'increment', input: 1 })).value).toBe(2)
    })
  })
})
