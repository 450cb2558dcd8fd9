import { lstat } from 'node:fs/promises'
import { connect, ErrorCode, type ChangeInfo, type ClientStatus } from '@ipc-state/client'
import { describe, expect, it, vi } from 'vitest'
import { caught, versionProblems } from '../src/checks.js'
import { startClient, startClients } from '../src/processes/client-fixture.js'
import type { FixtureEnv } from '../src/processes/fixture-env.js'
import { ask, type FixtureEvent, fixture, tempSocketRoot } from '../src/processes/processes.js'
import { RawClient } from '../src/peers/raw-client.js'
import { startServer } from '../src/processes/server-fixture.js'
import type { TestState, TestStore } from '../src/stores/test-store.js'

const startDroppingServer = (options: { socketRoot?: string } = {}, env: FixtureEnv = {}) =>
  startServer({ ...options, script: fixture('hostile/dropping-server.ts'), env })
/** Generous: two cores run every process of these tests, and other suites may run beside them. */
const settle = { timeout: 10_000 }

const oneToN = (n: number) => Array.from({ length: n }, (_, i) => i + 1)
const sorted = (values: unknown[]) => (values as number[]).slice().sort((a, b) => a - b)

interface Report extends FixtureEvent {
  status: ClientStatus
  epoch: string
  version: number
  state: TestState
  subscribedAt: number
  versions: number[]
  reasons: Record<string, number>
  jumps: { from: number; to: number; reason: string }[]
  notifications: [version: number, counter: number, messages: number][]
}

describe('live replicas', () => {
  it('4 writers and 2 watchers: every replica equals the server at the same version, no version applied twice or skipped', async () => {
    await using dir = await tempSocketRoot()
    // The clients start alongside the server, and connect once it listens.
    const starting = startServer(dir)
    await using writers = startClients(4, dir)
    await using watchers = startClients(2, dir, { IPC_STATE_WATCH: '1' })
    await using server = await starting
    await Promise.all([...writers, ...watchers].map((worker) => worker.waitFor('connected')))
    const subscribed = await Promise.all(watchers.map((watcher) => watcher.waitFor('connected')))
    for (const event of subscribed) expect(event.subscribedAt).toBe(0)

    // The watchers stop on their own once their replica shows every call.
    const watched = watchers.map(
      (watcher) => ask(watcher, { op: 'report', until: { counter: 1000, messages: 1000 } }) as Promise<Report>,
    )
    const [inc1, inc2, msg1, msg2] = await Promise.all([
      ask(writers[0]!, { op: 'burst', action: 'increment', count: 500 }),
      ask(writers[1]!, { op: 'burst', action: 'increment', count: 500 }),
      ask(writers[2]!, { op: 'burst', action: 'addMessage', count: 500, inputPrefix: 'w2-' }),
      ask(writers[3]!, { op: 'burst', action: 'addMessage', count: 500, inputPrefix: 'w3-' }),
    ])
    for (const burst of [inc1, inc2, msg1, msg2]) {
      expect(burst.errors).toEqual([])
      expect(burst.rywViolations).toBe(0)
      expect(new Set(burst.values as number[]).size).toBe(500)
    }
    expect(sorted([...(inc1!.values as number[]), ...(inc2!.values as number[])])).toEqual(oneToN(1000))
    expect(sorted([...(msg1!.values as number[]), ...(msg2!.values as number[])])).toEqual(oneToN(1000))

    const view = await server.view()
    expect(view.version).toBe(2000)
    expect(view.state.counter).toBe(1000)
    expect(view.state.messages).toHaveLength(1000)
    expect(view.state.messages.map((message) => message.id)).toEqual(oneToN(1000))
    const texts = new Set(view.state.messages.map((message) => message.text))
    for (let i = 0; i < 500; i++) expect(texts.has(`w2-${i}`) && texts.has(`w3-${i}`)).toBe(true)

    for (const report of await Promise.all(watched)) {
      expect(report.version).toBe(view.version)
      expect(report.state).toEqual(view.state)
      expect(report.versions).toHaveLength(2000)
      expect(versionProblems(report.versions, report.subscribedAt, view.version)).toBeUndefined()
      expect(report.reasons).toEqual({ change: 2000 })
      // Each call adds one to the counter or one message: a listener that ever saw a state between
      // two versions of a batch, or a version without its state, would see the sum differ.
      expect(report.notifications.filter(([version, counter, messages]) => counter + messages !== version)).toEqual([])
    }
    const writerReports = await Promise.all(
      writers.map((writer) => ask(writer, { op: 'report', until: { version: view.version } }) as Promise<Report>),
    )
    for (const report of writerReports) {
      expect(report.version).toBe(view.version)
      expect(report.state).toEqual(view.state)
    }
  })

  it('connections dropped mid-stream, several times: every call still counts exactly once', async () => {
    await using dir = await tempSocketRoot()
    const starting = startDroppingServer(dir, { IPC_STATE_DROP_EVERY: '1500', IPC_STATE_DROP_MAX: '4' })
    await using workers = startClients(4, dir, { IPC_STATE_RETRY_MS: '5', IPC_STATE_WATCH: '1' })
    await using server = await starting
    await Promise.all(workers.map((worker) => worker.waitFor('connected')))

    const bursts = await Promise.all(workers.map((worker) => ask(worker, { op: 'burst', action: 'increment', count: 500 })))
    const drops = server.process.events.filter((event) => event.event === 'dropped')
    expect(drops).toHaveLength(4)
    for (const drop of drops) expect(drop.pairs).toBeGreaterThan(0)
    // Every worker lost its connection mid-stream and got it back.
    for (const worker of workers) {
      expect(worker.events.filter((event) => event.event === 'status').map((event) => event.status)).toContain('reconnecting')
    }

    const all: number[] = []
    for (const burst of bursts) {
      expect(burst.errors).toEqual([])
      expect(burst.rywViolations).toBe(0)
      expect(burst.values).toHaveLength(500)
      expect(new Set(burst.values as number[]).size).toBe(500)
      all.push(...(burst.values as number[]))
    }
    expect(sorted(all)).toEqual(oneToN(2000))
    const view = await server.view()
    expect(view.state.counter).toBe(2000)
    expect(view.version).toBe(2000)
    // Calls resent after a drop reached the server twice, and were still counted once.
    expect((await ask(server.process, 'state')).sentTwice).toBeGreaterThan(0)
    for (const report of await Promise.all(
      // The last drop may come after a worker's last change: it reports once it is back.
      workers.map((worker) => ask(worker, { op: 'report', until: { version: 2000, status: 'connected' } }) as Promise<Report>),
    )) {
      expect(report.status).toBe('connected')
      expect(report.state).toEqual(view.state)
      // Never a change twice or out of order: changes step by one; a resync may skip what it replaced.
      expect(report.versions.at(-1)).toBe(2000)
      for (const jump of report.jumps) {
        expect(jump.to).toBeGreaterThan(jump.from)
        expect(jump.reason).toBe('resync')
      }
    }
  })

  it('a client closed by its own status listener while reconnecting stays closed', async () => {
    await using server = await startDroppingServer()
    await using doomed = await connect<TestStore>({ ...server.address, retryDelay: () => 0 })
    const seen: ClientStatus[] = []
    doomed.onStatusChange((status) => {
      seen.push(status)
      // A common pattern: give up as soon as the server goes away.
      if (status === 'reconnecting') void doomed.close()
    })
    await using witness = await connect<TestStore>({ ...server.address, retryDelay: () => 50 })
    const witnessBack = new Promise<void>((resolve) => {
      witness.onStatusChange((status) => {
        if (status === 'connected') resolve()
      })
    })

    await ask(server.process, 'drop', 'dropped')
    // The witness waited longer than the doomed client's retry would have: that retry is past.
    await witnessBack
    expect([...seen]).toEqual(['reconnecting', 'closed'])
    expect(doomed.status).toBe('closed')
    expect((await ask(server.process, 'state')).connections).toBe(1)
    expect((await caught(doomed.actions.increment())).code).toBe(ErrorCode.CLIENT_CLOSED)
  })

  it('after a SIGKILL and a new server on the same path, clients reconnect on their own and reset to its state', async () => {
    await using dir = await tempSocketRoot()
    const starting = startServer(dir)
    await using worker = startClient(dir, { IPC_STATE_WATCH: '1', IPC_STATE_RETRY_MS: '10' })
    await using first = await starting
    await worker.waitFor('connected')

    const retryAttempts: number[] = []
    await using client = await connect<TestStore>({
      ...first.address,
      retryDelay: (attempt) => {
        retryAttempts.push(attempt)
        return 10
      },
    })
    const statuses: ClientStatus[] = []
    client.onStatusChange((status) => statuses.push(status))
    const infos: ChangeInfo[] = []
    client.subscribe((_state, info) => infos.push(info))
    for (let i = 0; i < 5; i++) await client.actions.increment()
    expect(client.state.counter).toBe(5)
    await ask(worker, { op: 'report', until: { counter: 5 } })

    await first.process.stop('SIGKILL')
    expect((await lstat(first.path)).isSocket()).toBe(true) // left behind by the killed server
    await vi.waitFor(() => expect(client.status).toBe('reconnecting'), settle)

    await using second = await startServer(dir)
    expect(second.epoch).not.toBe(first.epoch)
    await vi.waitFor(() => expect(client.status).toBe('connected'), settle)
    expect(statuses).toEqual(['reconnecting', 'connected'])
    // Reconnecting passes 0 for the first retry, as RetryDelay documents.
    expect(retryAttempts[0]).toBe(0)
    expect(client.epoch).toBe(second.epoch)
    expect(client.version).toBe(0)
    expect(client.state).toEqual({ counter: 0, messages: [] })
    expect(infos.at(-1)).toEqual({ reason: 'reset', version: 0, epoch: second.epoch })
    expect(infos.filter((info) => info.reason === 'reset')).toHaveLength(1)

    // The worker process reconnected by itself too.
    await worker.waitFor((event) => event.event === 'status' && event.status === 'connected')
    const statusEvents = worker.events.filter((event) => event.event === 'status').map((event) => event.status)
    expect(statusEvents).toEqual(['reconnecting', 'connected'])
    expect(await client.actions.increment(2)).toBe(2)
    const report = (await ask(worker, { op: 'report', until: { counter: 2 } })) as Report
    expect(report).toMatchObject({ status: 'connected', epoch: second.epoch, version: 1, state: { counter: 2 } })
    expect(report.reasons.reset).toBe(1)
    expect(await second.view()).toMatchObject({ version: 1, state: { counter: 2, messages: [] } })
  })

  it('clients that share a clientId, one after the other, each have every call applied', async () => {
    await using server = await startServer()
    const texts: string[] = []
    for (const run of ['first run', 'second run']) {
      await using client = await connect<TestStore>({ ...server.address, clientId: 'fixed-writer' })
      // Both clients number their calls from the same start; neither may be taken for the other.
      await client.actions.addMessage(run)
      texts.push(...client.state.messages.map((message) => `${message.from}: ${message.text}`))
    }
    expect(texts).toEqual(['fixed-writer: first run', 'fixed-writer: first run', 'fixed-writer: second run'])
    expect((await server.view()).version).toBe(2)
  })

  it('a bad-argument call and a throwing action leave state and version unchanged on every replica', async () => {
    await using dir = await tempSocketRoot()
    const starting = startServer(dir)
    await using watcher = startClient(dir, { IPC_STATE_WATCH: '1' })
    await using server = await starting
    await watcher.waitFor('connected')
    await using caller = await connect<TestStore>(server.address)
    await using other = await connect<TestStore>(server.address)
    await caller.actions.increment(10)
    await caller.actions.addMessage('first')
    await vi.waitFor(() => expect(other.version).toBe(2), settle)
    const before = caller.state
    const seen: ChangeInfo[] = []
    other.subscribe((_state, info) => seen.push(info))

    const bad = await caught(caller.actions.increment(1.5))
    expect(bad.code).toBe(ErrorCode.BAD_ARGUMENTS)
    const failed = await caught(caller.actions.explode('nope'))
    expect(failed.code).toBe(ErrorCode.ACTION_FAILED)
    expect(failed.message).toContain('nope')
    expect(caller.state).toBe(before)
    expect(caller.version).toBe(2)

    // Changes reach a replica in order: if a failed call had made one, it would arrive before this.
    await caller.actions.increment(1)
    await vi.waitFor(() => expect(other.version).toBe(3), settle)
    expect(seen).toEqual([
      { reason: 'change', version: 3, from: 3, epoch: caller.epoch, action: 'increment', clientId: caller.clientId },
    ])
    const view = await server.view()
    expect(view.version).toBe(3)
    expect(view.state).toEqual({ counter: 11, messages: [expect.objectContaining({ id: 1, text: 'first' })] })
    expect(other.state).toEqual(view.state)
    expect(caller.state).toEqual(view.state)
    const report = (await ask(watcher, { op: 'report', until: { version: 3 } })) as Report
    expect(report.state).toEqual(view.state)
    expect(report.versions).toEqual([1, 2, 3])
  })

  it('read-your-writes: when an action resolves, the replica already shows it, while others write', async () => {
    await using dir = await tempSocketRoot()
    const starting = startServer(dir)
    await using others = startClients(2, dir)
    await using server = await starting
    await Promise.all(others.map((worker) => worker.waitFor('connected')))
    await using client = await connect<TestStore>(server.address)

    const writing = others.map((worker) => ask(worker, { op: 'serial', action: 'increment', count: 400 }))
    await Promise.all(others.map((worker) => worker.waitFor('begun')))
    let behind = 0
    let interleaved = 0
    let previous = 0
    for (let i = 0; i < 150; i++) {
      const value = await client.actions.increment()
      if (client.state.counter < value) behind += 1
      if (value - previous > 1) interleaved += 1
      previous = value
      const id = await client.actions.addMessage(`mine-${i}`)
      if (client.state.messages[id - 1]?.text !== `mine-${i}`) behind += 1
    }
    expect(behind).toBe(0)
    // The other processes really did write in between.
    expect(interleaved).toBeGreaterThan(0)
    for (const result of await Promise.all(writing)) {
      expect(result.errors).toEqual([])
      expect(result.rywViolations).toBe(0)
    }
  })

  it('the replica is read-only, in its type and at run time, nested arrays included', async () => {
    await using server = await startServer()
    await using client = await connect<TestStore>(server.address)
    await client.actions.addMessage('frozen')

    expect(() => {
      // @ts-expect-error the replica's type is read-only
      client.state.counter = 99
    }).toThrow(TypeError)
    expect(() => {
      // @ts-expect-error read-only arrays have no push
      client.state.messages.push({ id: 2, text: 'x', from: 'me', at: 0 })
    }).toThrow(TypeError)
    expect(() => {
      // @ts-expect-error nested objects are read-only too
      client.state.messages[0]!.text = 'changed'
    }).toThrow(TypeError)
    expect(client.state).toMatchObject({ counter: 0, messages: [{ text: 'frozen' }] })

    // The result of getState() is frozen as well.
    const snapshot = await client.getState()
    expect(() => {
      // @ts-expect-error read-only
      snapshot.counter = 1
    }).toThrow(TypeError)
  })

  it('selector subscriptions fire only when the selected value changes; equals is honoured; unsubscribe stops them', async () => {
    await using server = await startServer()
    await using client = await connect<TestStore>(server.address)

    const lengths: [number, number, ChangeInfo][] = []
    const stopLength = client.subscribe(
      (state) => state.messages.length,
      (length, previous, info) => lengths.push([length, previous, info]),
    )
    // A selector that makes a new array every time: by identity it always changes…
    const byIdentity: string[][] = []
    const stopIdentity = client.subscribe(
      (state) => state.messages.map((message) => message.text),
      (texts) => byIdentity.push(texts),
    )
    // …but with equals comparing contents, only real changes count.
    const byContents: string[][] = []
    const stopContents = client.subscribe(
      (state) => state.messages.map((message) => message.text),
      (texts) => byContents.push(texts),
      { equals: (a, b) => a.length === b.length && a.every((text, i) => text === b[i]) },
    )

    await client.actions.increment()
    await client.actions.increment()
    expect(lengths).toEqual([])
    expect(byIdentity).toHaveLength(2)
    expect(byContents).toEqual([])

    await client.actions.addMessage('one')
    expect(lengths).toEqual([
      [1, 0, { reason: 'change', version: 3, from: 3, epoch: client.epoch, action: 'addMessage', clientId: client.clientId }],
    ])
    expect(byContents).toEqual([['one']])

    stopLength()
    stopContents()
    stopIdentity()
    await client.actions.addMessage('two')
    await client.actions.increment()
    expect(client.state.messages).toHaveLength(2)
    expect(lengths).toHaveLength(1)
    expect(byContents).toHaveLength(1)
    expect(byIdentity).toHaveLength(3)
  })

  it('a client with replica: false gets no change traffic, refuses state and subscribe clearly, and still calls', async () => {
    await using server = await startServer()
    await using writer = await connect<TestStore>({ ...server.address, replica: false })
    await using replica = await connect<TestStore>(server.address)

    expect(() => writer.state).toThrow(/replica: false/)
    expect(() => writer.subscribe(() => {})).toThrow(/replica: false/)
    expect(() =>
      writer.subscribe(
        (state) => state.counter,
        () => {},
      ),
    ).toThrow(/replica: false/)
    expect(await writer.actions.increment(4)).toBe(4)
    expect(await writer.actions.addMessage('no replica')).toBe(1)
    expect(await writer.getState()).toMatchObject({ counter: 4, messages: [{ text: 'no replica' }] })
    await vi.waitFor(() => expect(replica.version).toBe(2), settle)

    // On the wire: a connection that said replica: false gets answers, never state/changed.
    await using peer = await RawClient.connect(server.path)
    await peer.send({ type: 'hello', data: { id: 1, protocol: 1, clientId: 'raw-writer', replica: false } })
    const hello = await peer.response(1)
    expect(hello.data.result).toMatchObject({ protocol: 1, version: 2 })
    expect(hello.data.result).not.toHaveProperty('state')
    await writer.actions.increment(1)
    await replica.actions.addMessage('more')
    await peer.send({ type: 'action/call', data: { id: 2, action: 'increment', input: 1 } })
    await peer.send({ type: 'state/get', data: { id: 3 } })
    await peer.response(3)
    expect(peer.frames.map((frame) => frame.type)).toEqual(['response', 'response', 'response'])
    expect(peer.frames[1]!.data.result).toEqual({ value: 6, version: 5 })
    expect(peer.frames[2]!.data.result).toMatchObject({ version: 5, state: { counter: 6 } })
  })
})
