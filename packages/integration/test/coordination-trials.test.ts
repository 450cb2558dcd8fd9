// Processes that hold something (a job, a lock, a claim) and die: what they held is released once,
// in the one order, and nothing is released of a process that is only reconnecting. Real server and
// worker processes, killed with SIGKILL at random moments.
import { connect, type IpcStateClient } from '@ipc-state/client'
import { afterAll, describe, expect, it } from 'vitest'
import { startCuttingProxy } from '../src/peers/cutting-proxy.js'
import { addressEnv, type AddressOptions, type FixtureEnv } from '../src/processes/fixture-env.js'
import { ask, disposeAll, type FixtureProcess, fixture, startFixture } from '../src/processes/processes.js'
import { type ServerHandle, startServer } from '../src/processes/server-fixture.js'
import { repeats } from '../src/repeats.js'
import { randomInt, seededRandom, testSeed } from '../src/seeded-random.js'
import { tempDataDir } from '../src/storage/data-dir.js'
import type { JobsState, JobsStore } from '../src/stores/jobs-store.js'

/** Short, so that the trials are quick: a reconnect on this machine takes far less. */
const LEAVE_GRACE = 400
const QUEUE_TRIALS = repeats(20, 3)
const MUTEX_TRIALS = repeats(100, 10)
/** How long a checker waits for a state before the test fails: a deadline for a hang, not a measure. */
const WAIT = { timeout: 60_000 }

/** From each SIGKILL to the release, by the server's clock (`left[].at`), in ms: printed after the file. */
const measured: Record<string, number[]> = { 'job back to pending': [], 'lock released': [], 'waiter holds the lock': [] }

afterAll(() => {
  for (const [what, times] of Object.entries(measured)) {
    if (times.length === 0) continue
    const sorted = [...times].sort((a, b) => a - b)
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
    console.info(
      `${what} after SIGKILL, leaveGrace ${LEAVE_GRACE} ms, ${sorted.length} kills: median ${at(0.5)} ms, p95 ${at(0.95)} ms, max ${sorted.at(-1)} ms`,
    )
  }
})

/** Starts fixtures/servers/jobs-server.ts, with `LEAVE_GRACE` unless `env` says otherwise. */
function startJobsServer(env: FixtureEnv = {}, socketRoot?: string): Promise<ServerHandle<JobsState>> {
  return startServer<JobsState>({
    script: fixture('servers/jobs-server.ts'),
    env: { IPC_STATE_LEAVE_GRACE: String(LEAVE_GRACE), ...env },
    ...(socketRoot === undefined ? {} : { socketRoot }),
  })
}

/** A worker process of the jobs store (fixtures/clients/jobs-worker.ts), connected. */
async function startWorker(address: AddressOptions, env: FixtureEnv = {}): Promise<FixtureProcess & { instanceId: string }> {
  const worker = startFixture(fixture('clients/jobs-worker.ts'), { env: { ...addressEnv(address), ...env } })
  const connected = await worker.waitFor((event) => event.event === 'connected' || event.event === 'error')
  if (connected.event !== 'connected') throw new Error(`a worker could not connect: ${JSON.stringify(connected)}`)
  return Object.assign(worker, { instanceId: connected.instanceId as string })
}

/** Kills `worker` with SIGKILL: the time just before, by this process's clock. */
async function kill(worker: FixtureProcess): Promise<number> {
  const at = Date.now()
  await worker.stop('SIGKILL')
  return at
}

/** A replica in this process that checks every change of the lock, as no worker could lie about it. */
function watchLock(checker: IpcStateClient<JobsStore>) {
  const violations: string[] = []
  const grants: { holder: string; token: number; seenAt: number }[] = []
  let last = checker.state.lock
  let version = checker.version
  checker.subscribe((state, info) => {
    if (info.version !== version + 1) violations.push(`the checker missed versions ${version + 1}..${info.version - 1}`)
    version = info.version
    const lock = state.lock
    if (lock.token < last.token) violations.push(`the token went back from ${last.token} to ${lock.token}`)
    if (lock.holder !== null && lock.holder !== last.holder) {
      if (last.holder !== null) violations.push(`two holders: ${last.holder} and ${lock.holder} at version ${info.version}`)
      if (lock.token <= last.token) violations.push(`a grant kept token ${lock.token}`)
      grants.push({ holder: lock.holder, token: lock.token, seenAt: Date.now() })
    } else if (lock.token !== last.token) violations.push(`the token moved to ${lock.token} with no grant`)
    last = lock
  })
  return { violations, grants }
}

/** Every job that went from running back to pending, and who held it: seen by a replica in this process. */
function watchReturns(checker: IpcStateClient<JobsStore>) {
  const returned: { id: number; holder: string }[] = []
  let last = checker.state.jobs
  checker.subscribe((state) => {
    for (const job of state.jobs) {
      const before = last[job.id - 1]
      if (before?.status === 'running' && job.status === 'pending') returned.push({ id: job.id, holder: before.holder! })
    }
    last = state.jobs
  })
  return returned
}

describe('coordination trials', () => {
  it(`job queue: ${QUEUE_TRIALS} trials of 4 workers and 200 jobs, one killed while it holds a job`, async () => {
    const random = seededRandom(testSeed())
    for (let trial = 0; trial < QUEUE_TRIALS; trial++) {
      await using server = await startJobsServer({ IPC_STATE_JOBS: '200' })
      await using checker = await connect<JobsStore>(server.address)
      const returned = watchReturns(checker)
      await using workers = disposeAll(await Promise.all(Array.from({ length: 4 }, () => startWorker(server.address))))
      const victim = workers[randomInt(random, 0, 4)]!
      const stallAt = randomInt(random, 1, 30)
      const drains = workers.map((worker) => ask(worker, { op: 'drain', ...(worker === victim ? { stallAt } : {}) }))
      // The victim's drain never answers: it ends with its process.
      drains[workers.indexOf(victim)]!.catch(() => {})
      const { job } = (await victim.waitFor('holding')) as unknown as { job: number }
      // A random moment while it holds the job.
      await new Promise((resolve) => setTimeout(resolve, randomInt(random, 0, 20)))
      const killedAt = await kill(victim)

      const survivors = await Promise.all(drains.filter((_, i) => workers[i] !== victim))
      const state = await checker.waitFor((s) => s.jobs.every((each) => each.status === 'done'), WAIT)
      const finished = survivors.flatMap((answer) => {
        expect(answer.crashed).toBeUndefined()
        return answer.finished as number[]
      })
      // Every job finished exactly once, by the store's count and by the workers' own.
      expect(state.jobs.map((each) => each.finishes)).toEqual(Array(200).fill(1))
      expect(new Set(finished).size).toBe(finished.length)
      // The victim finished the jobs it claimed before the one it held.
      expect(finished).toHaveLength(200 - (stallAt - 1))
      // The victim's job, and only it, went back to pending: once, when its worker was left as lost.
      expect(returned).toEqual([{ id: job, holder: victim.instanceId }])
      const leaves = state.left.filter((each) => each.instanceId === victim.instanceId)
      expect(leaves).toEqual([{ instanceId: victim.instanceId, reason: 'lost', at: expect.any(Number) }])
      // Not before the grace had run from the kill (1 ms for clocks that round).
      expect(leaves[0]!.at - killedAt).toBeGreaterThanOrEqual(LEAVE_GRACE - 1)
      measured['job back to pending']!.push(leaves[0]!.at - killedAt)
    }
  })

  it(`mutex: ${MUTEX_TRIALS} holders killed at random moments; tokens only grow, never two holders, a waiter takes over`, async () => {
    const random = seededRandom(testSeed())
    await using server = await startJobsServer()
    await using checker = await connect<JobsStore>(server.address)
    const { violations, grants } = watchLock(checker)
    const contenders = new Map<string, { worker: FixtureProcess; lock: Promise<Record<string, unknown>> }>()
    const contend = async () => {
      const worker = await startWorker(server.address)
      const lock = ask(worker, { op: 'lock' })
      // A contender killed before it got the lock never answers.
      lock.catch(() => {})
      contenders.set(worker.instanceId, { worker, lock })
    }
    try {
      await Promise.all([contend(), contend(), contend()])
      for (let trial = 0; trial < MUTEX_TRIALS; trial++) {
        const state = await checker.waitFor((s) => s.lock.holder !== null && contenders.has(s.lock.holder), WAIT)
        const holder = contenders.get(state.lock.holder!)!
        const { token } = (await holder.lock) as unknown as { token: number }
        expect(token).toBe(state.lock.token)
        // A random moment of its hold, and sometimes at once.
        await new Promise((resolve) => setTimeout(resolve, randomInt(random, 0, 30)))
        const killedAt = await kill(holder.worker)
        contenders.delete(state.lock.holder!)
        const replacing = contend()
        const after = await checker.waitFor(
          (s) =>
            s.lock.holder !== null && s.lock.holder !== state.lock.holder && s.left.some((l) => l.instanceId === state.lock.holder),
          WAIT,
        )
        const leave = after.left.find((l) => l.instanceId === state.lock.holder)!
        expect(leave.reason).toBe('lost')
        expect(leave.at - killedAt).toBeGreaterThanOrEqual(LEAVE_GRACE - 1)
        expect(after.lock.token).toBe(token + 1)
        measured['lock released']!.push(leave.at - killedAt)
        measured['waiter holds the lock']!.push(grants.at(-1)!.seenAt - killedAt)
        await replacing
      }
      expect(violations).toEqual([])
      expect(grants.map((grant) => grant.token)).toEqual(Array.from({ length: MUTEX_TRIALS + 1 }, (_, i) => i + 1))
    } finally {
      await Promise.all([...contenders.values()].map(({ worker }) => worker.stop('SIGKILL')))
    }
  })

  it('does not leave a client whose connection is cut for less than the grace, and leaves one cut for longer', async () => {
    const grace = 2_000
    await using server = await startJobsServer({ IPC_STATE_LEAVE_GRACE: String(grace), IPC_STATE_JOBS: '10' })
    await using proxy = await startCuttingProxy({ target: server.path, socketRoot: server.socketRoot })
    await using checker = await connect<JobsStore>(server.address)
    await using kept = await connect<JobsStore>({ ...proxy.address, retryDelay: () => 10 })
    // A witness cut at the same moment that never comes back: once it is left, the kept client's grace would be over too.
    await using witness = await startWorker(proxy.address)
    expect(await kept.actions.claim()).toBe(1)
    expect(await ask(witness, { op: 'claim', count: 1 })).toMatchObject({ ids: [2] })

    proxy.cut()
    await witness.stop('SIGKILL')
    // The outage: a tenth of the grace.
    await new Promise((resolve) => setTimeout(resolve, grace / 10))
    proxy.restore()
    const afterWitness = await checker.waitFor((s) => s.left.some((l) => l.instanceId === witness.instanceId), WAIT)
    // A round trip of the kept client after the witness's leave: any leave of it would be ordered before.
    expect(await kept.actions.claim()).toBe(2)
    const state = await checker.waitFor((s) => s.jobs[1]!.holder === kept.instanceId, WAIT)
    expect(afterWitness.left).toEqual([{ instanceId: witness.instanceId, reason: 'lost', at: expect.any(Number) }])
    expect(state.left.map((l) => l.instanceId)).not.toContain(kept.instanceId)
    expect(state.jobs[0]).toMatchObject({ status: 'running', holder: kept.instanceId })
    expect(state.clients.map((c) => c.instanceId)).toContain(kept.instanceId)
    expect(proxy.forwarded).toBeGreaterThanOrEqual(3)

    // The same cut, held until the grace ran out: the kept client is left, and joins again once back.
    proxy.cut()
    const left = await checker.waitFor((s) => s.left.some((l) => l.instanceId === kept.instanceId), WAIT)
    proxy.restore()
    expect(left.left.at(-1)).toMatchObject({ instanceId: kept.instanceId, reason: 'lost' })
    expect(left.jobs.slice(0, 2).map((job) => job.status)).toEqual(['pending', 'pending'])
    const back = await checker.waitFor((s) => s.clients.some((c) => c.instanceId === kept.instanceId), WAIT)
    expect(back.left.filter((l) => l.instanceId === kept.instanceId)).toHaveLength(1)
  })

  it('data folder: after a SIGKILL of the server, a client that never returns has its claims released once, the others keep theirs', async () => {
    const grace = 2_000
    await using data = await tempDataDir()
    const env: FixtureEnv = { IPC_STATE_DATA_DIR: data.dir, IPC_STATE_LEAVE_GRACE: String(grace) }
    await using first = await startJobsServer({ ...env, IPC_STATE_JOBS: '9' })
    await using workers = disposeAll(await Promise.all(Array.from({ length: 3 }, () => startWorker(first.address))))
    const held = await Promise.all(workers.map(async (worker) => (await ask(worker, { op: 'claim', count: 2 })).ids as number[]))
    expect(held.flat().sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6])
    await first.process.stop('SIGKILL')
    const gone = workers[0]!
    const staying = workers.slice(1)
    await gone.stop('SIGKILL')

    const restartedAt = Date.now()
    await using second = await startJobsServer(env, first.socketRoot)
    await using checker = await connect<JobsStore>(second.address)
    const released = await checker.waitFor((s) => s.left.some((l) => l.instanceId === gone.instanceId), WAIT)
    // One more change from each staying worker, after the leave: they are served, and nothing more was left.
    for (const worker of staying) expect(await ask(worker, { op: 'claim', count: 1 })).toMatchObject({ ids: [expect.any(Number)] })
    const state = await checker.waitFor((s) => s.jobs.filter((job) => job.status === 'running').length === 6, WAIT)

    expect(state.left).toEqual([{ instanceId: gone.instanceId, reason: 'server-restart', at: expect.any(Number) }])
    expect(state.left[0]!.at - restartedAt).toBeGreaterThanOrEqual(grace - 1)
    expect(released.left).toEqual(state.left)
    for (const id of held[0]!) expect(released.jobs[id - 1]).toMatchObject({ status: 'pending', holder: null })
    staying.forEach((worker, i) => {
      for (const id of held[i + 1]!) expect(state.jobs[id - 1]).toMatchObject({ status: 'running', holder: worker.instanceId })
    })
    expect(state.clients.map((c) => c.instanceId)).toEqual(expect.arrayContaining(staying.map((w) => w.instanceId)))
    expect(state.clients.map((c) => c.instanceId)).not.toContain(gone.instanceId)
  })
})
