// A client against servers that lie about the handshake, a resync, their frame limit or their
// actions: it refuses what it cannot believe, keeps its replica as it was, and never resends in a loop.
import { connect, ErrorCode, type IpcStateClient } from '@ipc-state/client'
import { defineStore } from '@ipc-state/protocol'
import { describe, expect, it, vi } from 'vitest'
import { caught } from '../src/checks.js'
import { fixture } from '../src/processes/processes.js'
import { type ServerHandle, startServer } from '../src/processes/server-fixture.js'

/** The shape the lying server pretends to serve. */
const liarStore = defineStore({
  initialState: { n: 0 },
  actions: {
    bump(state) {
      state.n += 1
      return state.n
    },
    say(_state, text: string) {
      return text.length
    },
  },
})
type LiarClient = IpcStateClient<typeof liarStore>

type Lie =
  | 'empty-hello'
  | 'old-snapshot'
  | 'old-limits'
  | 'many-actions'
  | 'odd-actions'
  | 'truthful-info'
  | 'batch-gap'
  | 'batch-bad-answers'

const startLiar = (lie: Lie, env: Record<`IPC_STATE_${string}`, string> = {}) =>
  startServer({ script: fixture('hostile/lying-server.ts'), id: 'liar', env: { IPC_STATE_LIE: lie, ...env } })

const count = (liar: ServerHandle, event: string) => liar.process.events.filter((e) => e.event === event).length

/** A logger that keeps what it was told. */
function recordingLogger() {
  const lines: { level: string; message: string; details?: Record<string, unknown> }[] = []
  const at =
    (level: string) =>
    (message: string, details?: Record<string, unknown>): void => {
      lines.push({ level, message, details })
    }
  return { lines, logger: { warn: at('warn'), error: at('error') } }
}

describe('a client against a hostile server', () => {
  it('refuses to connect, without retrying, to a server that answers hello with an empty result', async () => {
    await using liar = await startLiar('empty-hello')
    const refused = await caught(connect<typeof liarStore>({ ...liar.address, connectAttempts: 5, retryDelay: () => 10 }))
    expect(refused.code).toBe(ErrorCode.BAD_REQUEST)
    expect(refused.message).toContain(`${liar.path} answered the handshake with`)
    // Refused at the first answer: after a retry the client would have given up with SERVER_UNAVAILABLE.
    await liar.process.waitFor('hello')
    expect(count(liar, 'connection')).toBe(1)
  })

  it('refuses a resync snapshot older than its replica: the replica stays as it was, and the client reconnects', async () => {
    await using liar = await startLiar('old-snapshot')
    const { lines, logger } = recordingLogger()
    await using client: LiarClient = await connect<typeof liarStore>({ ...liar.address, logger, retryDelay: () => 10 })
    expect([client.version, client.state]).toEqual([5, { n: 5 }])
    const seen: number[] = []
    client.subscribe((_state, info) => seen.push(info.version))
    // Its answer never comes: the gap it brings makes the client ask for a snapshot.
    const bump = client.actions.bump().catch((error: unknown) => error)
    expect((await liar.process.waitFor('state-get')).version).toBe(2)
    await vi.waitFor(() => expect(count(liar, 'hello')).toBe(2), { timeout: 15_000, interval: 20 })
    expect(lines).toContainEqual({
      level: 'error',
      message: 'the server sent a snapshot the replica cannot take; reconnecting',
      details: { reason: expect.stringContaining("older than the replica's 5") },
    })
    await vi.waitFor(() => expect(client.status).toBe('connected'))
    expect([client.version, client.state, seen]).toEqual([5, { n: 5 }, []])
    await client.close()
    expect(await bump).toMatchObject({ code: ErrorCode.CLIENT_CLOSED })
  })

  it('a batched change that does not follow the replica: the client resyncs, and the call it answers resolves once the replica shows it', async () => {
    await using liar = await startLiar('batch-gap')
    await using client: LiarClient = await connect<typeof liarStore>({ ...liar.address, retryDelay: () => 10 })
    const seen: number[] = []
    client.subscribe((_state, info) => seen.push(info.version))
    expect(await client.actions.bump()).toBe(1)
    // It resolved only once the snapshot the gap asked for showed its version, never before.
    expect(client.version).toBe(1)
    expect(client.state).toEqual({ n: 1 })
    // The liar prints that it answered on its stdout, which may come after its answer on the socket.
    expect((await liar.process.waitFor('state-get')).version).toBe(1)
    expect(liar.process.events.filter((e) => e.event === 'state-get').map((e) => e.version)).toEqual([1])
    expect(seen).toEqual([1])
  })

  it('a batched change with a malformed answer inside is not believed: the replica resyncs, the call times out, and the client goes on', async () => {
    await using liar = await startLiar('batch-bad-answers')
    const { lines, logger } = recordingLogger()
    await using client: LiarClient = await connect<typeof liarStore>({ ...liar.address, logger, timeout: 300 })
    const refused = await caught(client.actions.bump())
    expect(refused.code).toBe(ErrorCode.TIMEOUT)
    await vi.waitFor(() => expect(client.version).toBe(1))
    expect(client.state).toEqual({ n: 1 })
    expect(client.status).toBe('connected')
    expect(lines.some((line) => line.message.includes('does not decode'))).toBe(true)
  })

  it('against a server too old to state its frame limit, a call past it is refused after one refusal, not resent', async () => {
    const limit = 4096
    await using liar = await startLiar('old-limits', { IPC_STATE_MAX_FRAME_BYTES: String(limit) })
    await using client: LiarClient = await connect<typeof liarStore>({
      ...liar.address,
      retryDelay: () => 10,
      timeout: 5_000,
    })
    const refused = await caught(client.actions.say('x'.repeat(3 * limit)))
    expect(refused).toMatchObject({ code: ErrorCode.FRAME_TOO_LARGE, data: { limit } })
    // A round trip on the connection the client holds now: no attempt is still on its way.
    expect(await client.actions.say('small')).toBe(0)
    // The connection that refused the frame, and the one after it, which still serves; no more.
    await vi.waitFor(() => expect(count(liar, 'hello')).toBe(2))
    expect(count(liar, 'connection')).toBe(2)
    expect(client.status).toBe('connected')
  })

  it('lists the actions a server describes truly', async () => {
    await using liar = await startLiar('truthful-info')
    await using client: LiarClient = await connect<typeof liarStore>({ ...liar.address, replica: false })
    const info = await client.serverInfo()
    expect(info.actions).toEqual([
      { name: 'bump', hasInputSchema: false },
      { name: 'say', hasInputSchema: true, inputSchema: { type: 'string' } },
    ])
    expect(info.actionCount).toBe(2)
  })

  it.each([
    ['many-actions', '200000 actions, more than 1000'],
    ['odd-actions', 'action 0 without a name of 1 to 256 characters'],
  ] as const)('refuses a server/info answer with %s, and goes on serving calls', async (lie, problem) => {
    await using liar = await startLiar(lie)
    await using client: LiarClient = await connect<typeof liarStore>({ ...liar.address, replica: false })
    const refused = await caught(client.serverInfo())
    expect(refused.code).toBe(ErrorCode.BAD_REQUEST)
    expect(refused.message).toBe(`The server at ${liar.path} answered server/info with ${problem}`)
    expect(await client.getState()).toEqual({ n: 0 })
    expect(client.status).toBe('connected')
  })
})
