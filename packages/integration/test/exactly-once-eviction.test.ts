// Exactly-once must not depend on how many other clients came by: a client whose call was applied
// but whose answer was lost comes back after 2,000 short-lived clients (a CLI that connects per
// invocation does this in about a second) and resends. It gets the recorded answer, or
// OUTCOME_UNKNOWN once its record was given up, and never a second apply.
import { describe, expect, it, vi } from 'vitest'
import type { FixtureEnv } from '../src/processes/fixture-env.js'
import { type FixtureEvent, fixture } from '../src/processes/processes.js'
import { RawClient } from '../src/peers/raw-client.js'
import { type ServerHandle, startServer } from '../src/processes/server-fixture.js'

interface ServerState {
  counter: number
  tally: number
  pad: string
}

type Server = ServerHandle<ServerState>

/** Opens a connection and says hello as `instanceId`, with hello id `id`. */
const greet = (path: string, instanceId: string, id: number, replica = false) =>
  RawClient.hello(path, { clientId: instanceId, instanceId, id, replica })

/** `count` short-lived clients, `concurrency` at a time: each a new instance making one call, then gone. */
async function passersBy(path: string, count: number, action: string, concurrency = 16): Promise<number> {
  let next = 0
  let answered = 0
  const worker = async () => {
    while (next < count) {
      const n = next++
      const peer = await greet(path, `passer-${action}-${n}`, 1)
      await peer.request({ type: 'action/call', data: { id: 2, action } })
      answered += 1
      await peer.close()
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return answered
}

const startExactlyOnceServer = (env: FixtureEnv) =>
  startServer<ServerState>({ script: fixture('servers/exactly-once-server.ts'), env })

/**
 * The victim says hello (id 1) as a replica, stops reading, and calls `increment` (id 2). Once the
 * server has applied it, a writer fills the state with changes the victim does not read until the
 * server cuts it as a slow consumer; the victim's answer is lost with its connection.
 */
async function applyThenCut(server: Server): Promise<void> {
  const victim = await greet(server.path, 'victim', 1, true)
  victim.socket.pause()
  await victim.send({ type: 'action/call', data: { id: 2, action: 'increment', input: 1 } })
  await vi.waitFor(async () => expect((await server.view()).state.counter).toBe(1))
  const writer = await greet(server.path, 'writer', 1)
  const isCut = (e: FixtureEvent) => e.event === 'log' && e.code === 'SLOW_CONSUMER'
  for (let id = 2; !server.process.events.some(isCut) && id < 200; id++) {
    await writer.request({ type: 'action/call', data: { id, action: 'fill', input: `${id}:`.padEnd(256 * 1024, 'x') } })
  }
  await server.process.waitFor(isCut)
  await writer.close()
  await victim.close()
}

describe('exactly once, whoever comes by', () => {
  it('answers the resend of a client cut as a slow consumer from the record, after 2,000 short-lived clients and 500 failed calls', async () => {
    // Default answerGrace, dedupWindow and maxRememberedClients (1,024): the figures of the report.
    await using server = await startExactlyOnceServer({ IPC_STATE_MAX_BUFFERED_BYTES: String(64 * 1024) })
    await applyThenCut(server)

    const started = performance.now()
    expect(await passersBy(server.path, 2_000, 'bump')).toBe(2_000)
    expect(await passersBy(server.path, 500, 'noSuchAction')).toBe(500)
    const seconds = ((performance.now() - started) / 1000).toFixed(1)
    console.log(`2,000 short-lived clients with one call each and 500 with a failing one: ${seconds} s`)

    // The victim comes back as the same instance, with a later hello, and resends call 2.
    await using back = await greet(server.path, 'victim', 3)
    const resent = await back.request({ type: 'action/call', data: { id: 2, action: 'increment', input: 1 } })
    expect(resent.data).toEqual({ id: 2, result: { value: 1, version: 1 } })
    const { state } = await server.view()
    expect(state).toMatchObject({ counter: 1, tally: 2_000 })
  })

  it('answers OUTCOME_UNKNOWN once the record was given up past answerGrace, and applies nothing', async () => {
    await using server = await startExactlyOnceServer({
      IPC_STATE_MAX_BUFFERED_BYTES: String(64 * 1024),
      IPC_STATE_ANSWER_GRACE: '0',
    })
    await applyThenCut(server)
    expect(await passersBy(server.path, 2_000, 'bump')).toBe(2_000)

    await using back = await greet(server.path, 'victim', 3)
    const resent = (await back.request({ type: 'action/call', data: { id: 2, action: 'increment', input: 1 } })).data
    expect(resent.error).toMatchObject({ code: 'OUTCOME_UNKNOWN', data: { id: 2, reason: 'expired' } })
    expect(resent.error?.message).toContain('Do not retry it blindly')
    expect((await server.view()).state).toMatchObject({ counter: 1, tally: 2_000 })
    // A new call of the same instance, numbered after its new hello, is applied as usual.
    const next = await back.request({ type: 'action/call', data: { id: 4, action: 'increment', input: 1 } })
    expect(next.data.result).toMatchObject({ value: 2 })
  })
})
