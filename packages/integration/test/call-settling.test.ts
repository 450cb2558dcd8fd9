import { connect, ErrorCode, type IpcStateClient, type IpcStateError } from '@ipc-state/client'
import { defineStore } from '@ipc-state/protocol'
import { describe, expect, it } from 'vitest'
import { caught } from '../src/checks.js'
import { ask, fixture } from '../src/processes/processes.js'
import { type ServerHandle, startServer } from '../src/processes/server-fixture.js'
import type { TestStore } from '../src/stores/test-store.js'

const lyingStore = defineStore({
  initialState: { n: 0 },
  actions: {
    bump(state) {
      state.n += 1
      return state.n
    },
  },
})

/** A logger that keeps what it was told. */
function recordingLogger() {
  const lines: { level: string; message: string; details?: Record<string, unknown> }[] = []
  const at =
    (level: string) =>
    (message: string, details?: Record<string, unknown>): void => {
      lines.push({ level, message, details })
    }
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } }
}

const startLyingServer = (lie: 'bad-change' | 'no-change') =>
  startServer({ script: fixture('hostile/lying-server.ts'), id: 'liar', env: { IPC_STATE_LIE: lie } })

const startSilentServer = () => startServer({ script: fixture('hostile/silent-server.ts') })

/** Resolves with what the silent server received for the first call of `action`. */
const received = (silent: ServerHandle, action: string) =>
  silent.process.waitFor((event) => event.event === 'received' && event.action === action)

/** Makes the silent server answer request `id` with `result`, on every connection. */
const reply = (silent: ServerHandle, id: unknown, result: unknown) => ask(silent.process, JSON.stringify({ id, result }), 'replied')

describe('every call settles, and no change is dropped in silence', () => {
  it('a change the client cannot decode makes it resync, so the call resolves and the replica is current', async () => {
    await using liar = await startLyingServer('bad-change')
    const { lines, logger } = recordingLogger()
    await using client: IpcStateClient<typeof lyingStore> = await connect<typeof lyingStore>({
      ...liar.address,
      logger,
      timeout: 10_000,
    })
    await expect(client.actions.bump()).resolves.toBe(1)
    expect(client.state).toEqual({ n: 1 })
    expect(client.version).toBe(1)
    await liar.process.waitFor('state-get')
    expect(lines).toContainEqual(
      expect.objectContaining({ level: 'warn', message: 'the server sent a frame that does not decode' }),
    )
    expect(lines).toContainEqual(expect.objectContaining({ level: 'info', message: 'resyncing the replica' }))
  })

  it('the timeout covers the wait for the replica to show an applied call, and says so', async () => {
    await using liar = await startLyingServer('no-change')
    await using client = await connect<typeof lyingStore>({ ...liar.address, timeout: 2_000 })
    const error = (await caught(client.call('bump', undefined, { timeout: 300 }))) as IpcStateError
    expect(error.code).toBe('TIMEOUT')
    expect(error.message).toMatch(/applied the call at version 1, but the replica did not show it within 300 ms/)
    expect(error.data).toMatchObject({ timeout: 300, status: 'connected', version: 1 })
    expect(client.version).toBe(0)
  })

  it('a call that times out while the client reconnects says so, with the last connection error as its cause', async () => {
    await using server = await startServer()
    // Retry 1 is planned once the first attempt to reconnect failed: from then on there is a last
    // connection error to report, however slowly a busy machine makes the attempts.
    let attemptFailed!: () => void
    const failedOnce = new Promise<void>((resolve) => {
      attemptFailed = resolve
    })
    const retryDelay = (retry: number) => {
      if (retry >= 1) attemptFailed()
      return 10
    }
    await using client = await connect<TestStore>({ ...server.address, retryDelay })
    await server.process.stop('SIGKILL')
    await failedOnce
    expect(client.status).toBe('reconnecting')
    // Attempts fail every 10 ms meanwhile; the last one's error is what the timeout reports.
    const error = (await caught(client.call('increment', 1, { timeout: 300 }))) as IpcStateError
    expect(error.code).toBe('TIMEOUT')
    expect(error.message).toMatch(/within 300 ms \(option timeout\), while reconnecting; last connection error: /)
    expect(error.data).toMatchObject({ status: 'reconnecting' })
    expect((error.cause as NodeJS.ErrnoException).code).toMatch(/^(ECONNREFUSED|ENOENT)$/)
  })

  it('a call the server never answers rejects with TIMEOUT, and the client stays usable', async () => {
    await using silent = await startSilentServer()
    await using client = await connect<TestStore>(silent.address)
    expect(client.status).toBe('connected')

    const started = Date.now()
    const error = await caught(client.call('increment', 1, { timeout: 200 }))
    expect(error.code).toBe(ErrorCode.TIMEOUT)
    expect(error.message).toContain('200 ms')
    expect(Date.now() - started).toBeGreaterThanOrEqual(190)
    expect(client.status).toBe('connected')
    const first = await received(silent, 'increment')

    // A late answer to the abandoned call is ignored; an answer to a new call is taken.
    await reply(silent, first.id, { value: 1, version: 0 })
    const second = client.call('peek', undefined, { timeout: 10_000 })
    await reply(silent, (await received(silent, 'peek')).id, { value: 42, version: 0 })
    expect(await second).toBe(42)
    expect(client.status).toBe('connected')
    expect(client.state).toEqual({ counter: 0, messages: [] })
  })

  it("aborting one call ends only that caller's wait; close() rejects the rest with CLIENT_CLOSED", async () => {
    await using silent = await startSilentServer()
    const client = await connect<TestStore>(silent.address)
    const controller = new AbortController()
    const aborted = caught(client.call('increment', 1, { signal: controller.signal }))
    const other = client.call('peek', undefined)
    const last = caught(client.call('increment', 2))
    const peek = await received(silent, 'peek')
    controller.abort()
    expect((await aborted).code).toBe(ErrorCode.ABORTED)

    // The other caller still gets its answer.
    await reply(silent, peek.id, { value: 7, version: 0 })
    expect(await other).toBe(7)

    await client.close()
    const closed = await last
    expect(closed.code).toBe(ErrorCode.CLIENT_CLOSED)
    expect(client.status).toBe('closed')
    await client.close() // a second close does nothing
  })

  it('with reconnectAttempts 0, a dropped connection rejects pending calls with CONNECTION_CLOSED', async () => {
    await using silent = await startSilentServer()
    await using client = await connect<TestStore>({ ...silent.address, reconnectAttempts: 0 })

    const pending = caught(client.actions.increment(1))
    await received(silent, 'increment')
    await silent.process.stop('SIGKILL')

    const error = await pending
    expect(error.code).toBe(ErrorCode.CONNECTION_CLOSED)
    expect(error.message).toContain(silent.path)
    expect(client.status).toBe('closed')
    expect((await caught(client.actions.increment(1))).code).toBe(ErrorCode.CLIENT_CLOSED)
  })
})
