// Servers sharing one store in a real redis-server, one of them SIGKILLed while its clients hold
// claims: the others release what those clients held, exactly once across servers, and nothing of a
// client that moved to a living server in time.
import { connect } from '@ipc-state/client'
import { afterAll, describe, expect, it } from 'vitest'
import { RawClient } from '../src/peers/raw-client.js'
import { type FixtureEnv, serverPath } from '../src/processes/fixture-env.js'
import { ask, disposeAll, type FixtureProcess, fixture, startFixture, tempSocketRoot } from '../src/processes/processes.js'
import { type ServerHandle, startServer } from '../src/processes/server-fixture.js'
import { startRedisServer } from '../src/storage/redis-server.js'
import type { JobsState, JobsStore } from '../src/stores/jobs-store.js'

const LEAVE_GRACE = 1_000
const SERVER_LEASE = 1_000
/** How long a checker waits for a state before the test fails: a deadline for a hang, not a measure. */
const WAIT = { timeout: 60_000 }

/** From the SIGKILL of a server to each leave of its clients, by the server's clock, in ms: printed after the file. */
const measured: number[] = []

afterAll(() => {
  if (measured.length === 0) return
  console.info(
    `clients of a killed server left after ${Math.min(...measured)}–${Math.max(...measured)} ms ` +
      `(serverLease ${SERVER_LEASE} ms + leaveGrace ${LEAVE_GRACE} ms = ${SERVER_LEASE + LEAVE_GRACE} ms)`,
  )
})

/** Starts a jobs server (fixtures/servers/jobs-server.ts) named `id` on the store in Redis. */
function startJobsServer(id: string, socketRoot: string, env: FixtureEnv): Promise<ServerHandle<JobsState>> {
  return startServer<JobsState>({
    script: fixture('servers/jobs-server.ts'),
    socketRoot,
    id,
    env: { IPC_STATE_LEAVE_GRACE: String(LEAVE_GRACE), IPC_STATE_SERVER_LEASE: String(SERVER_LEASE), ...env },
  })
}

/** A worker process (fixtures/clients/jobs-worker.ts) connected to `server`, retrying for ever once it is gone. */
async function startWorker(server: ServerHandle<JobsState>): Promise<FixtureProcess & { instanceId: string }> {
  const worker = startFixture(fixture('clients/jobs-worker.ts'), {
    env: { IPC_STATE_SOCKET_ROOT: server.socketRoot, IPC_STATE_APPSPACE: server.appspace, IPC_STATE_ID: server.id },
  })
  const connected = await worker.waitFor((event) => event.event === 'connected' || event.event === 'error')
  if (connected.event !== 'connected') throw new Error(`a worker could not connect: ${JSON.stringify(connected)}`)
  return Object.assign(worker, { instanceId: connected.instanceId as string })
}

/** Claims `count` jobs through `worker`: their ids. */
async function claim(worker: FixtureProcess, count: number): Promise<number[]> {
  const answer = await ask(worker, { op: 'claim', count })
  expect(answer.crashed).toBeUndefined()
  return answer.ids as number[]
}

describe.each([2, 3])('%i servers sharing a store in Redis, one SIGKILLed', (count) => {
  it('release the claims of its clients once, keep those of clients elsewhere and of one that moved in time', async () => {
    await using redis = await startRedisServer()
    await using sockets = await tempSocketRoot()
    const env: FixtureEnv = { IPC_STATE_REDIS_URL: redis.url, IPC_STATE_REDIS_KEY: `presence-${count}` }
    const first = await startJobsServer('server-0', sockets.socketRoot, { ...env, IPC_STATE_JOBS: '20' })
    await using servers = disposeAll([
      first,
      ...(await Promise.all(
        Array.from({ length: count - 1 }, (_, i) => startJobsServer(`server-${i + 1}`, sockets.socketRoot, env)),
      )),
    ])
    const [doomed, survivor] = [servers[0]!, servers[1]!]
    await using checker = await connect<JobsStore>(survivor.address)

    await using lost = disposeAll(await Promise.all([startWorker(doomed), startWorker(doomed)]))
    await using kept = await startWorker(survivor)
    const lostJobs = [...(await claim(lost[0]!, 2)), ...(await claim(lost[1]!, 2))]
    const keptJobs = await claim(kept, 2)
    // A client of the doomed server that comes back through a living one before the grace ends.
    await using mover = await RawClient.hello(doomed.path, { clientId: 'mover', instanceId: 'mover' })
    const moverClaim = await mover.request({ type: 'action/call', data: { id: 1, action: 'claim' } })
    const moverJob = moverClaim.data.result.value as number
    // The checker is a client too.
    const others = [checker.instanceId, kept.instanceId, 'mover']
    const joined = await checker.waitFor((s) => s.clients.length === 5, WAIT)
    expect(joined.clients.map((c) => c.instanceId).sort()).toEqual([...lost.map((w) => w.instanceId), ...others].sort())

    const killedAt = Date.now()
    await doomed.process.stop('SIGKILL')
    // Its workers keep knocking at the dead server's socket: they never come back. The mover comes
    // back through the survivor at once.
    await using _moved = await RawClient.hello(serverPath(sockets.socketRoot, survivor.address), {
      clientId: 'mover',
      instanceId: 'mover',
    })

    const released = await checker.waitFor((s) => lost.every((w) => s.left.some((l) => l.instanceId === w.instanceId)), WAIT)
    for (const worker of lost) {
      const leaves = released.left.filter((l) => l.instanceId === worker.instanceId)
      expect(leaves).toEqual([{ instanceId: worker.instanceId, reason: 'server-lost', at: expect.any(Number) }])
      // Not before the grace had run from the kill (1 ms for clocks that round).
      expect(leaves[0]!.at - killedAt).toBeGreaterThanOrEqual(LEAVE_GRACE - 1)
      measured.push(leaves[0]!.at - killedAt)
    }
    for (const id of lostJobs) expect(released.jobs[id - 1]).toMatchObject({ status: 'pending', holder: null })

    // Once every living server has followed the leaves, none can leave them again (a leave written
    // from an older view loses its compare-and-append and is decided again): one more change, and
    // any second leave would be ordered before it.
    const living = servers.slice(1)
    for (const server of living)
      await expect.poll(async () => (await server.view()).version, WAIT).toBeGreaterThanOrEqual(checker.version)
    const { ids } = (await ask(kept, { op: 'claim', count: 1 })) as unknown as { ids: number[] }
    const state = await checker.waitFor((s) => s.jobs[ids[0]! - 1]!.holder === kept.instanceId, WAIT)
    expect(state.left.map((l) => l.instanceId).sort()).toEqual(lost.map((w) => w.instanceId).sort())
    for (const id of keptJobs) expect(state.jobs[id - 1]).toMatchObject({ status: 'running', holder: kept.instanceId })
    expect(state.jobs[moverJob - 1]).toMatchObject({ status: 'running', holder: 'mover' })
    expect(state.clients.map((c) => c.instanceId).sort()).toEqual(others.sort())
    // Every living server holds that state and version.
    for (const server of living) {
      await expect.poll(async () => (await server.view()).version, WAIT).toBe(checker.version)
      expect((await server.view()).state).toEqual(state)
    }
  })
})
