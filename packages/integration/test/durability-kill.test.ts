// Nothing acknowledged is lost, and nothing is applied twice, when the server is killed with
// SIGKILL at a random moment and restarted on its data folder while writers keep calling.
import { setTimeout as delay } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { startClients } from '../src/processes/client-fixture.js'
import { storageEnv, tempDataDir } from '../src/storage/data-dir.js'
import { addressEnv, type FixtureAddress, fixtureAddress } from '../src/processes/fixture-env.js'
import { plainFixtures } from '../src/processes/plain-fixtures.js'
import { ask, type FixtureEvent, type FixtureProcess, startFixture, tempSocketRoot } from '../src/processes/processes.js'
import { randomInt, seededRandom, testSeed } from '../src/seeded-random.js'
import type { ServerView } from '../src/processes/server-fixture.js'
import { repeats } from '../src/repeats.js'

const TRIALS = repeats(100)
const WRITERS = 4
/** Calls per writer per trial: enough that most kills land while calls are in flight. */
const CALLS = 20
/** The kill comes this many milliseconds after the writers began, at most. */
const MAX_KILL_DELAY_MS = 40
/** Server processes loading ahead of the kills that they follow. */
const SPARES = 2

interface WriterResult {
  values: number[]
  errors: { i: number; code: string; message: string }[]
  rywViolations: number
  crashed?: string
}

/**
 * Server processes for one data folder, each started ahead with its code loaded (IPC_STATE_STANDBY),
 * and told to open the folder when the one before it has been killed: a restart costs the server's
 * start, not Node's. They run the server fixture as plain JavaScript: a hundred starts of the
 * TypeScript loader would cost more than the rest of the test.
 */
async function spareServers(
  address: FixtureAddress,
  dir: string,
): Promise<AsyncDisposable & { takeOver(): Promise<FixtureProcess> }> {
  const js = await plainFixtures(['servers/server.ts'])
  const env = { ...addressEnv(address), ...storageEnv(dir, { fsync: 'always' }), IPC_STATE_STANDBY: '1' }
  const spare = () => startFixture(js.path('servers/server.ts'), { env, plain: true })
  const spares = Array.from({ length: SPARES }, spare)
  const running: FixtureProcess[] = []
  return {
    async takeOver() {
      const next = spares.shift()!
      spares.push(spare())
      running.push(next)
      await next.waitFor('loaded')
      next.child.stdin!.write('start\n')
      const ready = await next.waitFor((e) => e.event === 'ready' || e.event === 'error')
      if (ready.event !== 'ready') throw new Error(`the server did not start: ${JSON.stringify(ready)}`)
      return next
    },
    [Symbol.asyncDispose]: async () => {
      await Promise.all([...running, ...spares].map((server) => server[Symbol.asyncDispose]()))
      await js[Symbol.asyncDispose]()
    },
  }
}

describe('durability across SIGKILL', () => {
  it(`${TRIALS} kills at random moments under ${WRITERS} writer processes: every call resolves, once`, async () => {
    const random = seededRandom(testSeed())
    await using data = await tempDataDir()
    await using sockets = await tempSocketRoot()
    const address = fixtureAddress(sockets)
    await using servers = await spareServers(address, data.dir)
    let server = await servers.takeOver()
    const epoch = (await server.waitFor('ready')).epoch
    await using writers = startClients(WRITERS, address)
    await Promise.all(writers.map((writer) => writer.waitFor('connected')))
    let total = 0
    let midStream = 0
    for (let trial = 0; trial < TRIALS; trial++) {
      const where = `trial ${trial}`
      // Half the writers call one after the other, half issue all their calls at once.
      const serial = (i: number) => i % 2 === 0
      const marks = writers.map((writer) => writer.events.length)
      const calls = Promise.all(
        writers.map((writer, i) => ask(writer, { op: serial(i) ? 'serial' : 'burst', action: 'increment', count: CALLS })),
      )
      // Awaited below; should the trial fail before that, its writers' end is no second failure.
      calls.catch(() => {})
      // The serial writers say when their first call goes out: the random delay counts from there.
      await Promise.all(writers.flatMap((writer, i) => (serial(i) ? [writer.waitFor('begun', { after: marks[i] })] : [])))
      await delay(randomInt(random, 0, MAX_KILL_DELAY_MS))
      await server.stop('SIGKILL')
      server = await servers.takeOver().catch((error: Error) => {
        throw new Error(`${where}: the restart failed: ${error.message}`)
      })
      const resumedAt = (await server.waitFor('ready')).version as number
      if (resumedAt > total && resumedAt < total + WRITERS * CALLS) midStream += 1

      const results = (await calls) as (FixtureEvent & WriterResult)[]
      for (const result of results) {
        expect(result.crashed, where).toBeUndefined()
        expect(result.errors, where).toEqual([])
        expect(result.values, where).toHaveLength(CALLS)
        expect(result.rywViolations, where).toBe(0)
      }
      // Each increment returned the counter it made: together, exactly the next numbers, once each.
      const values = results.flatMap((result) => result.values).sort((a, b) => a - b)
      const expected = Array.from({ length: WRITERS * CALLS }, (_, i) => total + i + 1)
      expect(values, where).toEqual(expected)
      // The restarted server held every call acknowledged before the kill, and none twice.
      expect(resumedAt, where).toBeGreaterThanOrEqual(total)
      expect(resumedAt, where).toBeLessThanOrEqual(total + WRITERS * CALLS)
      total += WRITERS * CALLS
      const view = (await ask(server, 'state')) as FixtureEvent & ServerView
      expect([view.state.counter, view.version, view.epoch], where).toEqual([total, total, epoch])
    }
    // Every writer lost its connection again and again, and came back each time. (Not at every kill:
    // a writer still reconnecting when the next kill comes skips a server.)
    for (const writer of writers) {
      const statuses = writer.events.filter((event) => event.event === 'status').map((event) => event.status)
      const reconnects = statuses.filter((status) => status === 'reconnecting').length
      // The last kill may come after a writer's last call, and the test reads its events before it
      // is back: then it ends reconnecting.
      const alternating = Array.from({ length: 2 * reconnects }, (_, i) => (i % 2 === 0 ? 'reconnecting' : 'connected'))
      expect(statuses).toEqual(statuses.length === alternating.length ? alternating : alternating.slice(0, -1))
      expect(reconnects).toBeGreaterThan(TRIALS / 2)
    }
    // Most kills must land while calls were in flight, or this would not test a crash under load.
    expect(midStream, 'kills while calls were in flight').toBeGreaterThan(TRIALS / 2)
    // About 90 s beside other files on two cores; room for several times that under load.
  }, 300_000)
})
