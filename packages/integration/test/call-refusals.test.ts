// Calls a client must not send: one larger than the server reads (refused at once, not resent in a
// loop), and one already sent to a server whose store was then lost to a restart in memory (it may
// have been applied there: OUTCOME_UNKNOWN, never a second run on the new store).
import { connect, ErrorCode, type ClientStatus } from '@ipc-state/client'
import { defineStore } from '@ipc-state/protocol'
import { describe, expect, it, vi } from 'vitest'
import { caught } from '../src/checks.js'
import { ask, crashLines, fixture, tempSocketRoot } from '../src/processes/processes.js'
import { startServer } from '../src/processes/server-fixture.js'
import type { TestStore } from '../src/stores/test-store.js'

/** The store of gated-server.ts: `gated` waits in its input check until the server is told `release`. */
const gatedStore = defineStore({
  initialState: { counter: 0 },
  actions: {
    gated(state, by: number) {
      state.counter += by
      return state.counter
    },
    increment(state, by: number = 1) {
      state.counter += by
      return state.counter
    },
  },
})

/** A call's outcome: its value, or the code it failed with. */
const outcome = (call: Promise<unknown>) =>
  call.then(
    (value) => ({ value }),
    (error: { code?: string }) => ({ code: error.code }),
  )

describe('calls a client must not send', () => {
  it.each([
    ['as JSON text', false],
    ['as a binary frame', true],
  ])(
    'a call larger than the server reads, %s, is refused at once with FRAME_TOO_LARGE, and the client stays connected',
    async (_label, binaryFrames) => {
      const limit = 64 * 1024
      await using server = await startServer({ env: { IPC_STATE_MAX_FRAME_BYTES: String(limit) } })
      let retries = 0
      await using client = await connect<TestStore>({
        ...server.address,
        binaryFrames,
        timeout: 5_000,
        retryDelay: () => {
          retries += 1
          return 10
        },
      })
      const statuses: ClientStatus[] = []
      client.onStatusChange((status) => statuses.push(status))

      const refused = await caught(client.actions.addMessage('x'.repeat(4 * limit)))
      expect(refused).toMatchObject({ code: ErrorCode.FRAME_TOO_LARGE, data: { limit } })
      expect(refused.message).toContain('maxFrameBytes')
      // Nothing was sent: the connection was never closed, and never made again.
      expect([retries, statuses]).toEqual([0, []])
      expect(await client.actions.addMessage('fits')).toBe(1)
      expect((await server.stats()).connections).toBe(1)
      expect(await server.view()).toMatchObject({ version: 1, state: { messages: [{ text: 'fits' }] } })
      expect(crashLines(server.process)).toEqual([])
    },
  )

  it('after a restart in memory, calls sent and unanswered fail with OUTCOME_UNKNOWN; calls never sent run on the new store, once', async () => {
    await using dir = await tempSocketRoot()
    await using first = await startServer({ socketRoot: dir.socketRoot, script: fixture('servers/gated-server.ts') })
    await using client = await connect<typeof gatedStore>({ ...first.address, retryDelay: () => 10, timeout: 30_000 })
    const sent = Array.from({ length: 5 }, () => outcome(client.actions.gated(1)))
    // All five reached the server, which holds them: written, and unanswered.
    await first.process.waitFor('checking')
    await vi.waitFor(
      async () => {
        const info = await client.serverInfo()
        expect(info.connections.find((c) => c.clientId === client.clientId)?.inFlight).toBe(5)
      },
      { timeout: 15_000, interval: 50 },
    )
    await first.process.stop('SIGKILL')
    await vi.waitFor(() => expect(client.status).toBe('reconnecting'), { timeout: 15_000 })
    // Never written to any socket: no server has seen these.
    const unsent = Array.from({ length: 3 }, () => outcome(client.actions.increment(1)))

    await using second = await startServer<{ counter: number }>({
      socketRoot: dir.socketRoot,
      script: fixture('servers/gated-server.ts'),
    })
    expect(second.epoch).not.toBe(first.epoch)
    // Whatever reaches the new store's gate goes through: a call resent there would be applied.
    await ask(second.process, 'release', 'released')

    const sentOutcomes = await Promise.all(sent)
    const unsentOutcomes = await Promise.all(unsent)
    expect(sentOutcomes).toEqual(Array.from({ length: 5 }, () => ({ code: ErrorCode.OUTCOME_UNKNOWN })))
    expect(unsentOutcomes).toEqual([{ value: 1 }, { value: 2 }, { value: 3 }])
    // The new store counts exactly the calls that succeeded on it.
    const successes = [...sentOutcomes, ...unsentOutcomes].filter((o) => 'value' in o).length
    expect((await second.view()).state.counter).toBe(successes)
    expect(second.process.events.filter((event) => event.event === 'checking')).toHaveLength(0)
    expect(client.epoch).toBe(second.epoch)
  })

  it('a server that closes cleanly says goodbye before the connection ends (so its unanswered calls are known not applied), and the client moves to the next server', async () => {
    await using dir = await tempSocketRoot()
    await using first = await startServer({ socketRoot: dir.socketRoot })
    const told: string[] = []
    await using client = await connect<TestStore>({
      ...first.address,
      retryDelay: () => 10,
      logger: { info: (message) => told.push(message) },
    })
    expect(await client.actions.increment(1)).toBe(1)
    await first.process.stop('SIGTERM')
    await vi.waitFor(() => expect(client.status).toBe('reconnecting'), { timeout: 15_000 })
    expect(told).toContain('the server is closing')
    await using second = await startServer({ socketRoot: dir.socketRoot })
    expect(await client.actions.increment(1)).toBe(1)
    expect(client.epoch).toBe(second.epoch)
  })
})
