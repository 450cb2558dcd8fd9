// What processes coordinate with: which client instance called an action and at what time by the
// server's clock, a wait in one process for a state that another process makes, and calls the
// server process makes itself.
import { connect } from '@ipc-state/client'
import { describe, expect, it } from 'vitest'
import { startClient } from '../src/processes/client-fixture.js'
import { encodeClientMessage } from '@ipc-state/protocol/wire'
import { RawClient } from '../src/peers/raw-client.js'
import { ask, type FixtureEvent, fixture } from '../src/processes/processes.js'
import { startServer } from '../src/processes/server-fixture.js'
import { storageEnv, tempDataDir } from '../src/storage/data-dir.js'
import type { JobsState, JobsStore } from '../src/stores/jobs-store.js'
import type { TestStore } from '../src/stores/test-store.js'

describe('coordination between processes', () => {
  it("gives an action the calling instance, distinct for two clients of one clientId, and the server's clock", async () => {
    await using server = await startServer()
    await using first = await connect<TestStore>({ ...server.address, clientId: 'worker' })
    await using second = await connect<TestStore>({ ...server.address, clientId: 'worker' })
    expect(first.instanceId).not.toBe(second.instanceId)
    const before = Date.now()
    const [a, b] = await Promise.all([first.actions.caller(), second.actions.caller()])
    const after = Date.now()
    expect(a).toMatchObject({ clientId: 'worker', instanceId: first.instanceId })
    expect(b).toMatchObject({ clientId: 'worker', instanceId: second.instanceId })
    // The server's clock, read while the call was under way (one machine, one clock).
    for (const { now } of [a, b]) {
      expect(now).toBeGreaterThanOrEqual(before)
      expect(now).toBeLessThanOrEqual(after)
    }
  })

  it('waits in one process for the state another process makes, checking once per change', async () => {
    await using server = await startServer()
    await using watcher = await connect<TestStore>(server.address)
    await using writer = startClient(server.address)
    await writer.waitFor('connected')
    let checks = 0
    const waiting = watcher.waitFor((state) => {
      checks += 1
      return state.counter >= 50
    })
    const done = ask(writer, { op: 'serial', action: 'increment', count: 80 })
    const state = await waiting
    expect(state.counter).toBeGreaterThanOrEqual(50)
    await done
    // Once at the start and at most once per change: nothing polled.
    expect(checks).toBeLessThanOrEqual(1 + state.counter)
    await expect(watcher.waitFor((s) => s.counter === 80)).resolves.toMatchObject({ counter: 80 })
  })

  it("runs the server process's own calls in the one order, stored, and sent to replicas as no client's", async () => {
    await using data = await tempDataDir()
    const env = storageEnv(data.dir, { fsync: 'always' })
    {
      await using server = await startServer({ env })
      await using client = await connect<TestStore>(server.address)
      const changes: { version: number; clientId: string | undefined; action: string | undefined }[] = []
      client.subscribe((_state, info) => changes.push({ version: info.version, clientId: info.clientId, action: info.action }))
      expect(await client.actions.increment(1)).toBe(1)
      const answer = (await ask(server.process, 'server-increment')) as FixtureEvent & { value: number }
      expect(answer.value).toBe(6)
      expect(await client.actions.increment(1)).toBe(7)
      await client.waitFor((state) => state.counter === 7)
      expect(changes).toEqual([
        { version: 1, clientId: client.clientId, action: 'increment' },
        { version: 2, clientId: undefined, action: 'increment' },
        { version: 3, clientId: client.clientId, action: 'increment' },
      ])
      await server.process.stop('SIGKILL')
    }
    // Stored as any change: a restart from the folder has it.
    await using server = await startServer({ env })
    expect((await server.view()).state.counter).toBe(7)
  })

  it('leaves a client instance at once on its goodbye, and takes nothing it sends after it', async () => {
    await using server = await startServer<JobsState>({ script: fixture('servers/jobs-server.ts'), env: { IPC_STATE_JOBS: '3' } })
    await using checker = await connect<JobsStore>(server.address)
    await using raw = await RawClient.hello(server.path, { clientId: 'raw', instanceId: 'leaving' })
    const claimed = await raw.request({ type: 'action/call', data: { id: 1, action: 'claim' } })
    expect(claimed.data.result).toMatchObject({ value: 1 })
    // The goodbye and a claim in one write: the claim must not run after the leave.
    await raw.write(
      encodeClientMessage({ type: 'bye', data: {} }) +
        encodeClientMessage({ type: 'action/call', data: { id: 2, action: 'claim' } }),
    )
    await raw.expectClosed()
    const state = await checker.waitFor((s) => s.left.length === 1, { timeout: 60_000 })
    expect(state.left).toEqual([{ instanceId: 'leaving', reason: 'closed', at: expect.any(Number) }])
    // A round trip after the leave: a claim sent after the goodbye would be ordered before it.
    expect(await checker.actions.claim()).toBe(1)
    expect(checker.state.jobs.map((job) => job.holder)).toEqual([checker.instanceId, null, null])
    expect(checker.state.clients.map((c) => c.instanceId)).toEqual([checker.instanceId])
  })
})
