import { lstat } from 'node:fs/promises'
import { connect, ErrorCode, type IpcStateClient } from '@ipc-state/client'
import { describe, expect, it, vi } from 'vitest'
import {
  ask,
  caught,
  rawConnect,
  runNode,
  serverView,
  startF,
  startServer,
  startWorkers,
  type TestState,
} from '../src/f-helpers.js'
import { fixture, tempSocketRoot } from '../src/processes.js'
import type { TestStore } from '../src/test-store.js'

const address = (socketRoot: string) => ({ socketRoot, appspace: 'test.', id: 'server' })

describe('foundation', () => {
  it('4 processes × 500 concurrent increments: exactly 2000, each caller saw its own unique value', async () => {
    await using dir = await tempSocketRoot()
    await using server = startServer(dir)
    await using workers = startWorkers(4, dir)
    await server.waitFor('ready')
    await Promise.all(workers.map((worker) => worker.waitFor('connected')))

    // Each worker issues its 500 calls at once.
    const bursts = await Promise.all(
      workers.map((worker) => ask(worker, { op: 'burst', action: 'increment', count: 500 })),
    )

    const all: number[] = []
    for (const burst of bursts) {
      expect(burst.errors).toEqual([])
      expect(burst.rywViolations).toBe(0)
      const values = burst.values as number[]
      expect(values).toHaveLength(500)
      expect(new Set(values).size).toBe(500)
      all.push(...values)
    }
    expect(all.sort((a, b) => a - b)).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1))

    const view = await serverView(server)
    expect(view.state.counter).toBe(2000)
    expect(view.version).toBe(2000)

    await using fresh = await connect<TestStore>(address(dir.socketRoot))
    expect((await fresh.getState()).counter).toBe(2000)
    expect(fresh.state.counter).toBe(2000)
    expect(fresh.version).toBe(2000)
  })

  it("a plain node-ipc 12 client written as the seed's read_ipc.js gets sharedData with the current state", async () => {
    await using dir = await tempSocketRoot()
    // The seed's own names: the socket is socketRoot + 'ipc-ogreniyorum' + 'server-socket'.
    const seed = { socketRoot: dir.socketRoot, appspace: 'ipc-ogreniyorum', id: 'server-socket' }
    await using server = startServer(dir, { IPC_STATE_APPSPACE: seed.appspace, IPC_STATE_ID: seed.id })
    const ready = await server.waitFor('ready')
    expect(ready.path).toBe(`${dir.socketRoot}ipc-ogreniyorumserver-socket`)

    await using client = await connect<TestStore>(seed)
    await client.actions.increment(5)
    await client.actions.addMessage('merhaba')
    const view = await serverView(server)

    const run = await runNode(fixture('f-seed-client.cjs'), {
      F_SOCKET_ROOT: seed.socketRoot,
      F_APPSPACE: seed.appspace,
      F_ID: seed.id,
    })
    expect(run, run.stderr).toMatchObject({ code: 0 })
    const line = run.stdout.split('\n').find((text) => text.startsWith('{"event":"sharedData"'))
    expect(line, run.stdout).toBeDefined()
    const data = (JSON.parse(line!) as { data: TestState }).data
    expect(data.counter).toBe(5)
    expect(data.messages).toEqual([{ id: 1, text: 'merhaba', from: client.clientId, at: 2 }])
    expect(data).toEqual(view.state)
  })

  it('a client started before its server connects once the server appears', async () => {
    await using dir = await tempSocketRoot()
    await using worker = startF('f-worker.ts', dir, { F_REPORT_RETRIES: '1', F_RETRY_MS: '20' })
    // The client has tried at least once and scheduled a retry: nothing listens yet.
    await worker.waitFor('retry')
    await expect(lstat(`${dir.socketRoot}test.server`)).rejects.toMatchObject({ code: 'ENOENT' })
    expect(worker.events.some((event) => event.event === 'connected')).toBe(false)

    await using server = startServer(dir)
    const ready = await server.waitFor('ready')
    const connected = await worker.waitFor('connected')
    expect(connected).toMatchObject({ epoch: ready.epoch, version: 0 })
    expect(await ask(worker, { op: 'call', action: 'increment', input: 7 })).toMatchObject({ value: 7 })
    expect((await serverView(server)).state.counter).toBe(7)
  })

  describe('with no server', () => {
    it('connect fails with SERVER_UNAVAILABLE after connectAttempts, naming the socket path; retries are numbered from 0', async () => {
      await using dir = await tempSocketRoot()
      const delays: number[] = []
      const error = await caught(
        connect<TestStore>({
          ...address(dir.socketRoot),
          connectAttempts: 3,
          retryDelay: (attempt) => {
            delays.push(attempt)
            return 5
          },
        }),
      )
      expect(error.name).toBe('IpcStateError')
      expect(error.code).toBe(ErrorCode.SERVER_UNAVAILABLE)
      expect(error.message).toContain(`${dir.socketRoot}test.server`)
      expect(error.message).toContain('3 attempts')
      // Three attempts: two waits in between, numbered from 0 as RetryDelay documents.
      expect(delays).toEqual([0, 1])
    })

    it('an aborted signal ends the wait with ABORTED', async () => {
      await using dir = await tempSocketRoot()
      const early = await caught(connect<TestStore>({ ...address(dir.socketRoot), signal: AbortSignal.abort() }))
      expect(early.code).toBe(ErrorCode.ABORTED)

      const controller = new AbortController()
      let retries = 0
      const pending = connect<TestStore>({
        ...address(dir.socketRoot),
        connectAttempts: Number.POSITIVE_INFINITY,
        signal: controller.signal,
        retryDelay: () => {
          // Abort while the client is waiting between two attempts.
          if (++retries === 2) setImmediate(() => controller.abort(new Error('user gave up')))
          return 5
        },
      })
      const late = await caught(pending)
      expect(late.code).toBe(ErrorCode.ABORTED)
      expect(retries).toBe(2)
    })
  })

  it('a call the server never answers rejects with TIMEOUT, and the client stays usable', async () => {
    await using dir = await tempSocketRoot()
    await using silent = startF('f-silent-server.ts', dir)
    await silent.waitFor('ready')
    await using client = await connect<TestStore>(address(dir.socketRoot))
    expect(client.status).toBe('connected')

    const started = Date.now()
    const error = await caught(client.call('increment', 1, { timeout: 200 }))
    expect(error.code).toBe(ErrorCode.TIMEOUT)
    expect(error.message).toContain('200 ms')
    expect(Date.now() - started).toBeGreaterThanOrEqual(190)
    expect(client.status).toBe('connected')
    const first = await silent.waitFor((event) => event.event === 'received' && event.action === 'increment')

    // A late answer to the abandoned call is ignored; an answer to a new call is taken.
    await ask(silent, JSON.stringify({ id: first.id, result: { value: 1, version: 0 } }), 'replied')
    const second = client.call('peek', undefined, { timeout: 10_000 })
    const received = await silent.waitFor((event) => event.event === 'received' && event.action === 'peek')
    await ask(silent, JSON.stringify({ id: received.id, result: { value: 42, version: 0 } }), 'replied')
    expect(await second).toBe(42)
    expect(client.status).toBe('connected')
    expect(client.state).toEqual({ counter: 0, messages: [] })
  })

  it("aborting one call ends only that caller's wait; close() rejects the rest with CLIENT_CLOSED", async () => {
    await using dir = await tempSocketRoot()
    await using silent = startF('f-silent-server.ts', dir)
    await silent.waitFor('ready')
    const client = await connect<TestStore>(address(dir.socketRoot))
    const controller = new AbortController()
    const aborted = caught(client.call('increment', 1, { signal: controller.signal }))
    const other = client.call('peek', undefined)
    const last = caught(client.call('increment', 2))
    const received = await silent.waitFor((event) => event.event === 'received' && event.action === 'peek')
    controller.abort()
    expect((await aborted).code).toBe(ErrorCode.ABORTED)

    // The other caller still gets its answer.
    await ask(silent, JSON.stringify({ id: received.id, result: { value: 7, version: 0 } }), 'replied')
    expect(await other).toBe(7)

    await client.close()
    const closed = await last
    expect(closed.code).toBe(ErrorCode.CLIENT_CLOSED)
    expect(client.status).toBe('closed')
    await client.close() // a second close does nothing
  })

  it('a server that accepts but never answers the handshake counts as a failed attempt', async () => {
    await using dir = await tempSocketRoot()
    await using mute = startF('f-silent-server.ts', dir, { F_MUTE_HELLO: '1' })
    await mute.waitFor('ready')
    const error = await caught(
      connect<TestStore>({ ...address(dir.socketRoot), timeout: 100, connectAttempts: 2, retryDelay: () => 1 }),
    )
    expect(error.code).toBe(ErrorCode.SERVER_UNAVAILABLE)
    expect(error.message).toMatch(/after 2 attempts.*No handshake .* within 100 ms/)
    await vi.waitFor(() =>
      expect(mute.events.filter((event) => event.event === 'received' && event.type === 'hello')).toHaveLength(2),
    )
  })

  it('with reconnectAttempts 0, a dropped connection rejects pending calls with CONNECTION_CLOSED', async () => {
    await using dir = await tempSocketRoot()
    await using silent = startF('f-silent-server.ts', dir)
    await silent.waitFor('ready')
    await using client = await connect<TestStore>({ ...address(dir.socketRoot), reconnectAttempts: 0 })

    const pending = caught(client.actions.increment(1))
    await silent.waitFor((event) => event.event === 'received' && event.action === 'increment')
    await silent.stop('SIGKILL')

    const error = await pending
    expect(error.code).toBe(ErrorCode.CONNECTION_CLOSED)
    expect(error.message).toContain(`${dir.socketRoot}test.server`)
    expect(client.status).toBe('closed')
    expect((await caught(client.actions.increment(1))).code).toBe(ErrorCode.CLIENT_CLOSED)
  })

  it('bad arguments, a throwing action and an unknown action answer with their codes and change nothing', async () => {
    await using dir = await tempSocketRoot()
    await using server = startServer(dir)
    await server.waitFor('ready')
    await using client = await connect<TestStore>(address(dir.socketRoot))
    await client.actions.increment(3)
    await client.actions.addMessage('hello')
    const before = await serverView(server)
    expect(before).toMatchObject({ version: 2, state: { counter: 3 } })

    const badArguments = await caught(client.actions.addMessage(42 as any))
    expect(badArguments.code).toBe(ErrorCode.BAD_ARGUMENTS)
    expect(badArguments.message).toContain('addMessage')
    expect(badArguments.message).toMatch(/string/i)
    expect(badArguments.data).toMatchObject({ issues: [expect.objectContaining({ message: expect.any(String) })] })

    const tooLong = await caught(client.actions.addMessage('x'.repeat(1001)))
    expect(tooLong.code).toBe(ErrorCode.BAD_ARGUMENTS)
    expect(tooLong.message).toMatch(/1000/)

    const failed = await caught(client.actions.explode('the reason it blew up'))
    expect(failed.code).toBe(ErrorCode.ACTION_FAILED)
    expect(failed.message).toContain('the reason it blew up')
    expect(failed.message).toContain('explode')

    const unknown = await caught((client as unknown as IpcStateClient<any>).call('noSuchAction', 1))
    expect(unknown.code).toBe(ErrorCode.UNKNOWN_ACTION)
    expect(unknown.message).toContain('noSuchAction')

    const inherited = await caught((client as unknown as IpcStateClient<any>).call('toString', undefined))
    expect(inherited.code).toBe(ErrorCode.UNKNOWN_ACTION)

    const after = await serverView(server)
    expect(after).toEqual(before)
    expect(client.version).toBe(before.version)
    expect(client.state).toEqual(before.state)
    // The next good call makes exactly the next version.
    expect(await client.actions.increment(1)).toBe(4)
    expect((await serverView(server)).version).toBe(before.version + 1)
  })

  it('a hello with another protocol version gets PROTOCOL_MISMATCH naming both versions', async () => {
    await using dir = await tempSocketRoot()
    await using server = startServer(dir)
    const ready = await server.waitFor('ready')
    await using peer = await rawConnect(ready.path as string)
    peer.send('hello', { id: 1, protocol: 999, clientId: 'from-the-future', replica: true })

    const response = await peer.next((frame) => frame.type === 'response')
    expect(response.data.id).toBe(1)
    expect(response.data.result).toBeUndefined()
    expect(response.data.error.code).toBe(ErrorCode.PROTOCOL_MISMATCH)
    expect(response.data.error.message).toContain('999')
    expect(response.data.error.message).toMatch(/\b1\b/)
    expect(response.data.error.data).toEqual({ client: 999, server: 1 })
    // The server then closes that connection, and keeps serving others.
    await peer.closed
    await using client = await connect<TestStore>(address(dir.socketRoot))
    expect(await client.actions.increment(1)).toBe(1)
  })
})
