import { connect, type IpcStateClient, type IpcStateError } from '@ipc-state/client'
import { defineStore } from '@ipc-state/protocol'
import { describe, expect, it } from 'vitest'
import { caught } from '../src/f-helpers.js'
import { fixture, startFixture, tempSocketRoot } from '../src/processes.js'
import type { TestStore } from '../src/test-store.js'

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

async function startLyingServer(lie: 'bad-change' | 'no-change') {
  const dir = await tempSocketRoot()
  const server = startFixture(fixture('lying-server.ts'), { env: { LIE: lie, LIE_SOCKET: `${dir.socketRoot}test.liar` } })
  await server.waitFor('ready')
  return {
    server,
    address: { socketRoot: dir.socketRoot, appspace: 'test.', id: 'liar' },
    [Symbol.asyncDispose]: async () => {
      await server[Symbol.asyncDispose]()
      await dir[Symbol.asyncDispose]()
    },
  }
}

describe('every call settles, and no change is dropped in silence', () => {
  it('a change the client cannot decode makes it resync, so the call resolves and the replica is current', async () => {
    await using liar = await startLyingServer('bad-change')
    const { lines, logger } = recordingLogger()
    await using client: IpcStateClient<typeof lyingStore> = await connect<typeof lyingStore>({
      ...liar.address,
      logger,
      timeout: 2_000,
    })
    await expect(client.actions.bump()).resolves.toBe(1)
    expect(client.state).toEqual({ n: 1 })
    expect(client.version).toBe(1)
    await liar.server.waitFor('state-get')
    expect(lines).toContainEqual(expect.objectContaining({ level: 'warn', message: 'the server sent a frame that does not decode' }))
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
    await using dir = await tempSocketRoot()
    await using server = startFixture(fixture('server.ts'), { env: { IPC_STATE_SOCKET_ROOT: dir.socketRoot } })
    await server.waitFor('ready')
    await using client = await connect<TestStore>({
      socketRoot: dir.socketRoot,
      appspace: 'test.',
      id: 'server',
      retryDelay: () => 10,
    })
    const reconnecting = new Promise<void>((resolve) => {
      client.onStatusChange((status) => {
        if (status === 'reconnecting') resolve()
      })
    })
    await server.stop('SIGKILL')
    await reconnecting
    // Attempts fail every 10 ms meanwhile; the last one's error is what the timeout reports.
    const error = (await caught(client.call('increment', 1, { timeout: 300 }))) as IpcStateError
    expect(error.code).toBe('TIMEOUT')
    expect(error.message).toMatch(/within 300 ms \(option timeout\), while reconnecting; last connection error: /)
    expect(error.data).toMatchObject({ status: 'reconnecting' })
    expect((error.cause as NodeJS.ErrnoException).code).toMatch(/^(ECONNREFUSED|ENOENT)$/)
  })
})
