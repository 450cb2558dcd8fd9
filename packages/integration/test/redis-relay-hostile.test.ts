// Servers sharing a store in Redis whose relay streams and writer's lease hold what no server wrote:
// junk in the stream of calls the writer runs, junk in a server's stream of replies, a lease key
// overwritten by hand, a call forged in another server's name. The servers stay up, log what they
// leave out, and every real call is answered and applied once.
import { encodeClientMessage } from '@ipc-state/protocol/wire'
import { describe, expect, it } from 'vitest'
import { startClient } from '../src/processes/client-fixture.js'
import { type FixtureEnv, serverPath } from '../src/processes/fixture-env.js'
import { type FixtureEvent, type FixtureProcess, ask, disposeAll, tempSocketRoot } from '../src/processes/processes.js'
import { RawClient } from '../src/peers/raw-client.js'
import { type RedisServer, startRedisServer } from '../src/storage/redis-server.js'
import type { BurstResult } from '../src/storage/shared-run.js'
import { type SharedServer, leaseIdOf, startSharedServers, writerOf } from '../src/storage/shared-servers.js'
import type { TestState } from '../src/stores/test-store.js'

type ServerView = FixtureEvent & { version: number; state: TestState }

/** Generous: two busy cores may stall a process for seconds, and nothing here measures time. */
const PATIENCE = { timeout: 60_000, interval: 50 }
const MiB = 1024 * 1024

/** A client's `action/call` message, as JSON text. */
const callFrame = (id: number, action: string, input?: unknown) =>
  JSON.stringify({ type: 'action/call', data: { id, action, input } })

/** The fields of an entry of `<key>:calls` as a server writes it: one call of `instanceId`, relayed by `from`. */
const relayed = (from: string, instanceId: string, frame: string) => [
  'f',
  from,
  'i',
  instanceId,
  's',
  '0',
  'c',
  'forger',
  'm',
  frame,
]

/** Resolves with the warning `server` logs whose message matches `pattern` and that has `fields`. */
function warned(server: FixtureProcess, pattern: RegExp, fields: Record<string, unknown> = {}): Promise<FixtureEvent> {
  return server.waitFor(
    (event) =>
      event.event === 'log' &&
      event.level === 'warn' &&
      pattern.test(String(event.message)) &&
      Object.entries(fields).every(([name, value]) => event[name] === value),
  )
}

/**
 * Resolves with the warning one of `servers` logs (the writer, or the one that took its lease over
 * when a busy machine stalled it) whose message matches `pattern` and that has `fields`.
 */
const warnedByOne = (servers: readonly SharedServer[], pattern: RegExp, fields: Record<string, unknown> = {}) =>
  Promise.any(servers.map((server) => warned(server.process, pattern, fields)))

/** The warnings `servers` logged so far whose message matches `pattern`. */
const warnings = (servers: readonly SharedServer[], pattern: RegExp) =>
  servers.flatMap((server) =>
    server.process.events.filter((event) => event.event === 'log' && event.level === 'warn' && pattern.test(String(event.message))),
  )

/** Two servers on `key`, the writer first, and a client connected to each (the writer's first). */
async function twoServers(redis: RedisServer, socketRoot: string, key: string, env: FixtureEnv = {}) {
  const servers = await startSharedServers(2, socketRoot, { url: redis.url, key }, env)
  const writer = await writerOf(servers, redis, key)
  const other = servers.find((server) => server !== writer)!
  const clients = disposeAll([writer, other].map((server) => startClient(server.address)))
  await Promise.all(clients.map((client) => client.waitFor('connected')))
  return {
    servers,
    writer,
    other,
    clients,
    async [Symbol.asyncDispose]() {
      await clients[Symbol.asyncDispose]()
      await servers[Symbol.asyncDispose]()
    },
  }
}

/** `count` increments of 1 through each client, one after the other: how many were acknowledged, every one of them answered. */
async function incrementAll(clients: readonly FixtureProcess[], count: number): Promise<number> {
  const results = (await Promise.all(
    clients.map((client) => ask(client, { op: 'serial', action: 'increment', count })),
  )) as (FixtureEvent & BurstResult)[]
  for (const result of results) expect([result.values.length, result.errors]).toEqual([count, []])
  return results.reduce((sum, result) => sum + result.values.length, 0)
}

/** Each server's view once both serve `version`: the same state on both, which it returns. */
async function oneView(servers: readonly SharedServer[], version: number): Promise<TestState> {
  let views: ServerView[] = []
  await expect
    .poll(async () => {
      views = (await Promise.all(servers.map((server) => ask(server.process, 'state')))) as ServerView[]
      return views.map((view) => view.version)
    }, PATIENCE)
    .toEqual(servers.map(() => version))
  for (const view of views) expect(view.state).toEqual(views[0]!.state)
  return views[0]!.state
}

/** Whether `server`'s process is still running. */
const running = (server: SharedServer) => server.process.child.exitCode === null && server.process.child.signalCode === null

describe('servers relaying calls through Redis, when the relay streams hold what no server wrote', () => {
  it('junk in the stream of calls: the writer logs it and stays up, relayed calls with bad input fail as direct ones do, real calls apply once', async () => {
    await using redis = await startRedisServer()
    await using sockets = await tempSocketRoot()
    await using run = await twoServers(redis, sockets.socketRoot, 'calls')
    const { writer, other, clients } = run
    const otherId = leaseIdOf(other)
    const calls = 'calls:calls'
    const before = await incrementAll(clients, 5)

    // Entries no server writes: refused whole by the stream's reader, by name.
    const foreign = await redis.command('XADD', calls, '*', 'hello', 'world')
    const many = await redis.command('XADD', calls, '*', ...Array.from({ length: 20_000 }, (_, i) => (i % 2 === 0 ? `x${i}` : 'y')))
    const misnamed = await redis.command(
      'XADD',
      calls,
      '*',
      'f',
      otherId,
      'i',
      'a',
      's',
      '0',
      'c',
      'b',
      'frame',
      callFrame(1, 'increment', 1),
    )
    for (const id of [foreign, many, misnamed])
      expect(await warnedByOne(run.servers, /calls stream is not a relayed call/, { key: calls, id })).toBeDefined()

    // Well-formed entries whose frame is not a call: decoded as a client's frame is, and left out.
    const notCalls = [
      'not json',
      JSON.stringify({ type: 'hello', data: { id: 1, protocol: 1, clientId: 'x', replica: false } }),
      '{"type":"action/call","data":{"id":1}}',
    ]
    const ids: string[] = []
    for (const frame of notCalls) ids.push(await redis.command('XADD', calls, '*', ...relayed(otherId, 'junk', frame)))
    // 100 000 levels deep, too long for a command line: made in Redis.
    const deep = await redis.command(
      'EVAL',
      `return redis.call('XADD', KEYS[1], '*', 'f', ARGV[1], 'i', 'junk', 's', '0', 'c', 'forger', 'm', ARGV[2] .. string.rep('[', 100000) .. string.rep(']', 100000) .. '}}')`,
      '1',
      calls,
      otherId,
      '{"type":"action/call","data":{"id":1,"action":"increment","input":',
    )
    ids.push(deep)
    // Each one is logged with the stream and entry, why, and the server it claims to come from.
    const notCall = /a relayed call is not a call/
    const sources = ids.map((id) => `${calls}, entry ${id}`)
    await expect
      .poll(() => new Set(warnings(run.servers, notCall).map((event) => event.source)), PATIENCE)
      .toEqual(new Set(sources))
    expect(new Set(warnings(run.servers, notCall).map((event) => event.error)).size).toBe(ids.length)
    for (const event of warnings(run.servers, notCall)) expect(event.from).toBe(otherId)

    // Well-formed calls the writer refuses, as it refuses a client's: answered (to a server that
    // waits on none of them), never run.
    const refusedCalls = [
      callFrame(1, 'nope', 1),
      callFrame(2, 'increment', 'ten'),
      callFrame(3, '__proto__', 1),
      callFrame(4, 'constructor', 1),
      callFrame(5, 'toString'),
    ]
    for (const frame of refusedCalls) {
      await redis.command('XADD', calls, '*', ...relayed(otherId, 'junk', frame))
      await redis.command('XADD', calls, '*', ...relayed('nobody', 'junk', frame))
    }
    // Well-formed calls of instances that never said hello, named like the prototype's keys: the
    // writer holds no record of them (a record comes only with the change of a hello, in the log),
    // so it cannot tell a resend from a new call, and runs none of them (OUTCOME_UNKNOWN).
    const forged = ['__proto__', 'constructor', 'hasOwnProperty']
    for (const instanceId of forged)
      await redis.command('XADD', calls, '*', ...relayed('nobody', instanceId, callFrame(1, 'increment', 1000)))

    // Real calls from both servers go on, each answered and applied once, beside the forged ones.
    const after = await incrementAll(clients, 20)
    expect(running(writer) && running(other)).toBe(true)
    const state = await oneView(run.servers, before + after)
    expect(state.counter).toBe(before + after)

    // A call relayed with bad input fails with the code a call the writer runs itself gets, at once.
    const [writerClient, otherClient] = clients
    for (const [action, input, code] of [
      ['nope', 1, 'UNKNOWN_ACTION'],
      ['increment', 'ten', 'BAD_ARGUMENTS'],
      ['__proto__', 1, 'UNKNOWN_ACTION'],
      ['constructor', 1, 'UNKNOWN_ACTION'],
    ] as const) {
      const direct = await ask(writerClient!, { op: 'call', action, input })
      const relayedOutcome = await ask(otherClient!, { op: 'call', action, input })
      expect([direct.code, relayedOutcome.code], action).toEqual([code, code])
    }
    expect((await oneView(run.servers, before + after)).counter).toBe(before + after)
  })

  it('junk in a server’s stream of replies: it stays up, logs it, and answers its waiting call only with the writer’s answer', async () => {
    await using redis = await startRedisServer()
    await using sockets = await tempSocketRoot()
    await using run = await twoServers(redis, sockets.socketRoot, 'replies')
    const { writer, other } = run
    const replies = `replies:replies:${leaseIdOf(other)}`
    await using caller = await RawClient.hello(serverPath(sockets.socketRoot, other.address), { instanceId: 'caller' })
    expect((await caller.request({ type: 'action/call', data: { id: 1, action: 'increment', input: 1 } })).data.result.value).toBe(
      1,
    )

    // The writer stopped: call 2 waits, relayed, while junk answers it.
    writer.process.child.kill('SIGSTOP')
    try {
      await caller.send({ type: 'action/call', data: { id: 2, action: 'increment', input: 1 } })
      await expect.poll(async () => Number(await redis.command('XLEN', 'replies:calls')), PATIENCE).toBeGreaterThan(0)
      const entries = [
        ['hello', 'world'],
        ['i', 'caller', 'n', '2'],
        ['i', 'caller', 'x', '2', 'r', '{"id":2,"result":{"version":9}}'],
        ['i', 'caller', 'n', '-2', 'r', '{"id":2,"result":{"version":9}}'],
      ]
      const junk = []
      for (const fields of entries) junk.push(await redis.command('XADD', replies, '*', ...fields))
      for (const id of junk) await warned(other.process, /replies stream is not a reply/, { key: replies, id })
      // Replies to call 2 that are not the response a writer writes: none reaches the caller.
      const notAnswers = [
        'not json',
        '{"id":3,"result":{"version":9}}',
        '{"id":2}',
        '{"id":2,"result":7}',
        '{"id":2,"error":{}}',
        '{"id":2,"error":{"code":"ACTION_FAILED"}}',
        '{"id":2,"result":{"value":9,"version":9},"error":{"code":"X","message":"y"}}',
      ]
      const sources: string[] = []
      for (const json of notAnswers)
        sources.push(`${replies}, entry ${await redis.command('XADD', replies, '*', 'i', 'caller', 'n', '2', 'r', json)}`)
      // Each one logged with the stream and entry, and the call it names.
      const notAnswer = /reply from the writer is not an answer/
      await expect.poll(() => warnings([other], notAnswer).map((event) => event.source), PATIENCE).toEqual(sources)
      for (const event of warnings([other], notAnswer)) expect([event.instanceId, event.id]).toEqual(['caller', 2])
    } finally {
      writer.process.child.kill('SIGCONT')
    }
    // The writer's own answer comes (or, if its lease ran out meanwhile, the new writer's): once, applied once.
    const answer = await caller.response(2)
    expect(answer.data.result.value).toBe(2)
    expect((await caller.request({ type: 'action/call', data: { id: 3, action: 'increment', input: 1 } })).data.result.value).toBe(
      3,
    )
    expect(caller.frames.filter((frame) => frame.type === 'response' && frame.data?.id === 2)).toHaveLength(1)
    expect(running(writer) && running(other)).toBe(true)
    expect((await oneView(run.servers, 3)).counter).toBe(3)
  })

  it('the writer’s lease overwritten by hand, with a string that never runs out or with a hash: a server holds it again, and calls go on', async () => {
    await using redis = await startRedisServer()
    await using sockets = await tempSocketRoot()
    await using run = await twoServers(redis, sockets.socketRoot, 'lease')
    const ids = run.servers.map(leaseIdOf)
    const holder = async () =>
      (await redis.command('TYPE', 'lease:writer')) === 'string' ? await redis.command('GET', 'lease:writer') : undefined
    let total = await incrementAll(run.clients, 5)
    const overwrites = [
      `return redis.call('SET', KEYS[1], 'impostor')`,
      `redis.call('DEL', KEYS[1]) return redis.call('HSET', KEYS[1], 'holder', 'impostor')`,
    ]
    for (const overwrite of overwrites) {
      await redis.command('EVAL', overwrite, '1', 'lease:writer')
      // Calls made meanwhile wait, relayed, until a server holds the lease again and runs them.
      const calling = incrementAll(run.clients, 10)
      await expect.poll(holder, PATIENCE).toSatisfy((id) => ids.includes(id as string))
      expect(Number(await redis.command('PTTL', 'lease:writer'))).toBeGreaterThan(0)
      total += await calling
    }
    expect(run.servers.every(running)).toBe(true)
    expect((await oneView(run.servers, total)).counter).toBe(total)
  })

  it('a relay stream blocked by an entry stamped at the end of time, or made another type: its reader deletes it, and calls go on', async () => {
    await using redis = await startRedisServer()
    await using sockets = await tempSocketRoot()
    await using run = await twoServers(redis, sockets.socketRoot, 'blocked')
    const otherReplies = `blocked:replies:${leaseIdOf(run.other)}`
    let total = await incrementAll(run.clients, 5)
    const blockers: [key: string, command: string[]][] = [
      // No `XADD *` can follow an entry with the largest id: every relayed call would fail.
      ['blocked:calls', ['XADD', 'blocked:calls', '18446744073709551615-18446744073709551615', 'x', 'y']],
      [otherReplies, ['XADD', otherReplies, '18446744073709551615-18446744073709551615', 'x', 'y']],
      // Not a stream: the blocking read of the server that reads it fails.
      ['blocked:calls', ['EVAL', `redis.call('DEL', KEYS[1]) return redis.call('SET', KEYS[1], 'junk')`, '1', 'blocked:calls']],
    ]
    for (const [key, command] of blockers) {
      await redis.command(...command)
      // A call refused while it was blocked fails BACKEND_UNAVAILABLE, not relayed: retried here.
      // (A writer blocked on a key made another type may not learn of it: the server whose relayed
      // call meets it drops it.)
      for (const client of run.clients) {
        for (let done = 0; done < 5; ) {
          const outcome = await ask(client, { op: 'call', action: 'increment', input: 1 })
          if (outcome.code === undefined) done += 1
          else expect(outcome.code).toBe('BACKEND_UNAVAILABLE')
        }
      }
      total += 10
      await expect.poll(() => redis.command('TYPE', key), PATIENCE).not.toBe('string')
      await expect
        .poll(() => redis.command('XREVRANGE', key, '+', '-', 'COUNT', '1'), PATIENCE)
        .not.toMatch(/^18446744073709551615-/)
    }
    expect(warnings(run.servers, /stamped in the future/).length).toBeGreaterThanOrEqual(2)
    expect(warnings(run.servers, /is not a stream: deleted/).length).toBeGreaterThanOrEqual(1)
    expect(run.servers.every(running)).toBe(true)
    expect((await oneView(run.servers, total)).counter).toBe(total)
  })

  // Anyone who can write to Redis can write the log itself: a call forged in a server's name does
  // nothing a forged change could not. What it cannot do is have a call applied twice, or answered
  // twice: the record of answered calls dedupes by instance and call id. It can take a call id
  // the instance has not used yet: the instance's own call with that id is then answered with the
  // forged call's outcome and not run, as a resend of a call already applied is.
  it('a call forged in another server’s name for one of its client instances: the client’s calls are each answered once, none applied twice', async () => {
    await using redis = await startRedisServer()
    await using sockets = await tempSocketRoot()
    await using run = await twoServers(redis, sockets.socketRoot, 'forged')
    const { other } = run
    const otherId = leaseIdOf(other)
    await using victim = await RawClient.hello(serverPath(sockets.socketRoot, other.address), { instanceId: 'victim' })
    const call = async (id: number) =>
      (await victim.request({ type: 'action/call', data: { id, action: 'increment', input: 1 } })).data.result.value
    for (const id of [1, 2, 3]) expect(await call(id)).toBe(id)

    // A call id the victim used already, run again for 1000: answered from the record, not applied.
    await redis.command('XADD', 'forged:calls', '*', ...relayed(otherId, 'victim', callFrame(2, 'increment', 1000)))
    // One it has not used yet: applied, once, in its name.
    await redis.command('XADD', 'forged:calls', '*', ...relayed(otherId, 'victim', callFrame(5, 'increment', 1000)))
    await expect.poll(async () => ((await ask(other.process, 'state')) as ServerView).state.counter, PATIENCE).toBe(1003)

    expect(await call(4)).toBe(1004)
    // The victim's call 5 is taken for the forged one: answered with its outcome, not run.
    expect(await call(5)).toBe(1003)
    expect(await call(6)).toBe(1005)
    // One outcome for each call (the server relaying them, were it the writer by then, might send
    // a forged call's answer again: the same one).
    for (const id of [1, 2, 3, 4, 5, 6]) {
      const responses = victim.frames.filter((frame) => frame.type === 'response' && frame.data?.id === id)
      expect(new Set(responses.map((frame) => JSON.stringify(frame.data))).size, `call ${id}`).toBe(1)
    }
    expect(run.servers.every(running)).toBe(true)
    expect((await oneView(run.servers, 6)).counter).toBe(1005)
  })

  it('a call larger than the writer reads from the stream: answered at once, and the calls relayed beside it run', async () => {
    await using redis = await startRedisServer()
    await using sockets = await tempSocketRoot()
    // The writer takes no relayed frame longer than maxStateBytes (no change is larger than the state).
    await using run = await twoServers(redis, sockets.socketRoot, 'large', { IPC_STATE_MAX_STATE_BYTES: String(MiB) })
    const { writer, other } = run
    const path = (server: SharedServer) => serverPath(sockets.socketRoot, server.address)
    await using direct = await RawClient.hello(path(writer))
    await using caller = await RawClient.hello(path(other))
    const large = (id: number) =>
      encodeClientMessage({ type: 'action/call', data: { id, action: 'increment', input: 'x'.repeat(2 * MiB) } })
    const small = (id: number) => encodeClientMessage({ type: 'action/call', data: { id, action: 'increment', input: 1 } })
    // On the writer itself it runs, and its input is refused by the store's schema; relayed, it
    // cannot reach the writer, and says so rather than wait for an answer that never comes.
    expect((await caller.request({ type: 'action/call', data: { id: 1, action: 'increment', input: 1 } })).data.result.value).toBe(
      1,
    )
    await direct.write(large(1))
    expect((await direct.response(1)).data.error.code).toBe('BAD_ARGUMENTS')
    // Relayed, in one write with calls before and after it: one turn, one entry of the calls stream.
    await caller.write(small(2) + large(3) + small(4))
    const codes = await Promise.all([2, 3, 4].map(async (id) => (await caller.response(id)).data))
    expect(codes.map((data) => data.result?.value ?? data.error.code)).toEqual([2, 'FRAME_TOO_LARGE', 3])
    expect((await oneView(run.servers, 3)).counter).toBe(3)
  })
})
