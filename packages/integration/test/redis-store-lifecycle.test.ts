// A store in Redis over time: a server that fell so far behind that the log was trimmed past it
// reloads a snapshot, and a new store version migrates the store once.
import { describe, expect, it } from 'vitest'
import { startClient } from '../src/processes/client-fixture.js'
import { addressEnv, fixtureAddress } from '../src/processes/fixture-env.js'
import { type FixtureEvent, ask, fixture, startFixture, tempSocketRoot } from '../src/processes/processes.js'
import { startRedisServer } from '../src/storage/redis-server.js'
import { expectOneState, startSharedClients, untilVersion } from '../src/storage/shared-run.js'
import { sharedStoreEnv, startSharedServers, writerOf } from '../src/storage/shared-servers.js'

describe('a store in Redis over time', () => {
  it.each([
    ['the writer', true],
    ['a server that relays its calls', false],
  ])(
    '%s, paused while the log was trimmed past it, reloads the snapshot; its replicas resync, and none sees a gap',
    async (_, writer) => {
      await using redis = await startRedisServer()
      await using sockets = await tempSocketRoot()
      await using servers = await startSharedServers(2, sockets.socketRoot, { url: redis.url, key: 'paused', snapshotEvery: 50 })
      await using clients = await startSharedClients(servers, 1)
      // A paused writer's lease runs out: the other server takes over the calls, and the paused one
      // follows the log again once it wakes.
      const first = await writerOf(servers, redis, 'paused')
      const paused = writer ? first : servers.find((server) => server !== first)!
      const [running, pausedAt] = [servers.find((server) => server !== paused)!, servers.indexOf(paused)]
      paused.process.child.kill('SIGSTOP')
      // One call after the other: many writes, each a chance to write a snapshot.
      await ask(clients.writers[servers.indexOf(running)]!, { op: 'serial', action: 'increment', count: 400 })
      await untilVersion(running, 400)
      expect(Number(await redis.command('XLEN', 'paused:log'))).toBeLessThanOrEqual(150)
      paused.process.child.kill('SIGCONT')
      // It takes calls on top of what it reloaded.
      expect((await ask(clients.writers[pausedAt]!, { op: 'call', action: 'increment', input: 1 })).value).toBe(401)
      const state = await expectOneState(servers, clients, 401, [clients.watchers[pausedAt]!])
      expect(state.counter).toBe(401)
      expect(
        paused.process.events.some((event) => event.event === 'log' && /reloaded its snapshot/.test(String(event.message))),
      ).toBe(true)
    },
  )

  it('a server of a newer store version migrates the store in Redis once; an older one is refused', async () => {
    await using redis = await startRedisServer()
    await using sockets = await tempSocketRoot()
    const store = sharedStoreEnv({ url: redis.url, key: 'versions' })
    const start = (id: string, version: string) =>
      startFixture(fixture('servers/shared-server.ts'), {
        env: { ...addressEnv(fixtureAddress({ socketRoot: sockets.socketRoot, id })), ...store, IPC_STATE_STORE_VERSION: version },
      })
    await using v1 = start('v1', '1')
    await v1.waitFor('ready')
    await using client = startClient(fixtureAddress({ socketRoot: sockets.socketRoot, id: 'v1' }), { IPC_STATE_REPLICA: '0' })
    await client.waitFor('connected')
    expect((await ask(client, { op: 'call', action: 'increment', input: 5 })).value).toBe(5)
    expect((await ask(client, { op: 'call', action: 'addName', input: 'ada' })).value).toBe(1)
    await v1.stop('SIGTERM')

    await using v2 = start('v2', '2')
    expect((await v2.waitFor('ready')).version).toBe(3)
    // A second server of version 2 finds the store migrated already.
    await using again = start('v2-again', '2')
    expect((await again.waitFor('ready')).version).toBe(3)
    for (const server of [v2, again]) {
      const view = (await ask(server, 'state')) as FixtureEvent & { state: unknown; version: number }
      expect([view.version, view.state]).toEqual([3, { total: 5, people: [{ name: 'ada' }], migratedFrom: 1 }])
    }
    await using old = start('v1-again', '1')
    expect(await old.waitFor('error')).toMatchObject({ code: 'STORE_TOO_NEW' })
  })
})
