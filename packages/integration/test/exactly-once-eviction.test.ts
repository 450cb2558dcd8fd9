// Exactly-once must not depend on how many other clients came by: a client whose call was applied
// but whose answer was lost comes back after 2,000 short-lived clients (a CLI that connects per
// invocation does this in about a second) and resends. It gets the recorded answer, or
// OUTCOME_UNKNOWN once its record was given up, and never a second apply.
import { connect as netConnect, type Socket } from 'node:net'
import { describe, expect, it, vi } from 'vitest'
import { fixture, startFixture, tempSocketRoot, type FixtureEvent } from '../src/processes.js'

/** A client speaking the wire protocol over a bare `node:net` socket. */
class RawPeer {
  readonly #socket: Socket
  readonly #responses = new Map<number, (data: Response) => void>()
  readonly #answered = new Map<number, Response>()
  #buffer = ''

  private constructor(socket: Socket) {
    this.#socket = socket
    socket.setEncoding('utf8')
    socket.on('data', (text: string) => this.#read(text))
    socket.on('error', () => {})
  }

  static open(path: string): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ path })
      socket.once('connect', () => resolve(new RawPeer(socket)))
      socket.once('error', reject)
    })
  }

  /** Opens a connection and says hello as `instanceId`, with hello id `id`. */
  static async greet(path: string, instanceId: string, id: number, replica = false): Promise<RawPeer> {
    const peer = await RawPeer.open(path)
    const answer = await peer.request('hello', { id, protocol: 1, clientId: instanceId, instanceId, replica })
    if (answer.error !== undefined) throw new Error(`hello refused: ${answer.error.code}`)
    return peer
  }

  send(type: string, data: Record<string, unknown>): void {
    this.#socket.write(`${JSON.stringify({ type, data })}\f`)
  }

  request(type: string, data: { id: number } & Record<string, unknown>): Promise<Response> {
    const answered = this.#answered.get(data.id)
    if (answered !== undefined) return Promise.resolve(answered)
    const response = new Promise<Response>((resolve) => this.#responses.set(data.id, resolve))
    this.send(type, data)
    return response
  }

  /** Stops reading: what the server sends piles up in the socket buffers, then in the server. */
  pause(): void {
    this.#socket.pause()
  }

  destroy(): void {
    this.#socket.destroy()
  }

  #read(text: string): void {
    this.#buffer += text
    for (let end = this.#buffer.indexOf('\f'); end !== -1; end = this.#buffer.indexOf('\f')) {
      const frame = JSON.parse(this.#buffer.slice(0, end)) as { type: string; data: Response }
      this.#buffer = this.#buffer.slice(end + 1)
      if (frame.type !== 'response') continue
      this.#answered.set(frame.data.id, frame.data)
      this.#responses.get(frame.data.id)?.(frame.data)
    }
  }
}

interface Response {
  id: number
  result?: { value?: unknown; version: number }
  error?: { code: string; message: string; data?: unknown }
}

interface ServerState {
  counter: number
  tally: number
}

/** `count` short-lived clients, `concurrency` at a time: each a new instance making one call, then gone. */
async function passersBy(path: string, count: number, action: string, concurrency = 16): Promise<number> {
  let next = 0
  let answered = 0
  const worker = async () => {
    while (next < count) {
      const n = next++
      const peer = await RawPeer.greet(path, `passer-${action}-${n}`, 1)
      await peer.request('action/call', { id: 2, action })
      answered += 1
      peer.destroy()
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return answered
}

async function startServer(socketRoot: string, env: Record<string, string> = {}) {
  const process = startFixture(fixture('exactly-once-server.ts'), { env: { IPC_STATE_SOCKET_ROOT: socketRoot, ...env } })
  const ready = await process.waitFor('ready')
  const states = () => process.events.filter((e) => e.event === 'state')
  return {
    process,
    path: ready.path as string,
    /** The server's state, asked through stdin. */
    async state(): Promise<{ state: ServerState; version: number }> {
      const seen = states().length
      process.child.stdin!.write('state\n')
      await vi.waitFor(() => expect(states().length).toBeGreaterThan(seen))
      return states().at(-1) as FixtureEvent & { state: ServerState; version: number }
    },
    [Symbol.asyncDispose]: () => process[Symbol.asyncDispose](),
  }
}

type Server = Awaited<ReturnType<typeof startServer>>

/**
 * The victim says hello (id 1) as a replica, stops reading, and calls `increment` (id 2). Once the
 * server has applied it, a writer fills the state with changes the victim does not read until the
 * server cuts it as a slow consumer; the victim's answer is lost with its connection.
 */
async function applyThenCut(server: Server): Promise<void> {
  const victim = await RawPeer.greet(server.path, 'victim', 1, true)
  victim.pause()
  victim.send('action/call', { id: 2, action: 'increment', input: 1 })
  await vi.waitFor(async () => expect((await server.state()).state.counter).toBe(1))
  const writer = await RawPeer.greet(server.path, 'writer', 1)
  const isCut = (e: FixtureEvent) => e.event === 'log' && e.code === 'SLOW_CONSUMER'
  for (let id = 2; !server.process.events.some(isCut) && id < 200; id++) {
    await writer.request('action/call', { id, action: 'fill', input: `${id}:`.padEnd(256 * 1024, 'x') })
  }
  await server.process.waitFor(isCut)
  writer.destroy()
  victim.destroy()
}

describe('exactly once, whoever comes by', () => {
  it('answers the resend of a client cut as a slow consumer from the record, after 2,000 short-lived clients and 500 failed calls', async () => {
    await using dir = await tempSocketRoot()
    // Default answerGrace, dedupWindow and maxRememberedClients (1,024): the figures of the report.
    await using server = await startServer(dir.socketRoot, { IPC_STATE_MAX_BUFFERED_BYTES: String(64 * 1024) })
    await applyThenCut(server)

    const started = performance.now()
    expect(await passersBy(server.path, 2_000, 'bump')).toBe(2_000)
    expect(await passersBy(server.path, 500, 'noSuchAction')).toBe(500)
    const seconds = ((performance.now() - started) / 1000).toFixed(1)
    console.log(`2,000 short-lived clients with one call each and 500 with a failing one: ${seconds} s`)

    // The victim comes back as the same instance, with a later hello, and resends call 2.
    const back = await RawPeer.greet(server.path, 'victim', 3)
    const resent = await back.request('action/call', { id: 2, action: 'increment', input: 1 })
    expect(resent).toEqual({ id: 2, result: { value: 1, version: 1 } })
    const { state } = await server.state()
    expect(state).toMatchObject({ counter: 1, tally: 2_000 })
    back.destroy()
  })

  it('answers OUTCOME_UNKNOWN once the record was given up past answerGrace, and applies nothing', async () => {
    await using dir = await tempSocketRoot()
    await using server = await startServer(dir.socketRoot, {
      IPC_STATE_MAX_BUFFERED_BYTES: String(64 * 1024),
      IPC_STATE_ANSWER_GRACE: '0',
    })
    await applyThenCut(server)
    expect(await passersBy(server.path, 2_000, 'bump')).toBe(2_000)

    const back = await RawPeer.greet(server.path, 'victim', 3)
    const resent = await back.request('action/call', { id: 2, action: 'increment', input: 1 })
    expect(resent.error).toMatchObject({ code: 'OUTCOME_UNKNOWN', data: { id: 2, reason: 'expired' } })
    expect(resent.error?.message).toContain('Do not retry it blindly')
    expect((await server.state()).state).toMatchObject({ counter: 1, tally: 2_000 })
    // A new call of the same instance, numbered after its new hello, is applied as usual.
    expect((await back.request('action/call', { id: 4, action: 'increment', input: 1 })).result).toMatchObject({ value: 2 })
    back.destroy()
  })
})
