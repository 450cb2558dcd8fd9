// What one frame may cost a real process beyond its bytes: hostile binary frames (structured-clone
// references, millions of empty maps, a header alone) sent to a server, and hostile snapshots sent
// by a server to a client. Each is refused at once, costs its receiver no more than its budgets,
// never stalls its event loop for a second, and no other client notices.
import { connect, type IpcStateClient } from '@ipc-state/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { costStore } from '../src/stores/cost-store.js'
import { addressEnv } from '../src/processes/fixture-env.js'
import { binaryFrame, dagValue, emptyMapsFrame, packJson } from '../src/peers/hostile-frames.js'
import { ask, fixture, startFixture } from '../src/processes/processes.js'
import { type ServerHandle, startServer } from '../src/processes/server-fixture.js'
import { WireClient, type WireReceived } from '../src/peers/wire-client.js'

const MiB = 1024 * 1024
/** The server's defaults, which these frames attack. */
const MAX_FRAME_BYTES = 16 * MiB
const MAX_TOTAL_PENDING_BYTES = 64 * MiB
/**
 * What one refused frame may cost its receiver: its bytes as they arrived and their copy into one
 * buffer, with room for the collector's slack. Its objects are counted before any is made. Without
 * the bound on them, 16 MiB of empty maps cost over 1 GB.
 */
const ONE_FRAME_BYTES = 4 * MAX_FRAME_BYTES
/** An event loop stalled longer than this is blocked, whatever the machine's load. */
const MAX_LAG_MS = 1000

interface Watch {
  rss: number
  peakRss: number
  maxLagMs: number
  keptBytes: number
}

let server: ServerHandle
let other: IpcStateClient<typeof costStore>

const watch = async (): Promise<Watch> => (await ask(server.process, 'watch')) as unknown as Watch
const keepCall = (id: number, input: unknown) => ({ type: 'action/call', data: { id, action: 'keep', input } })
/** The server's answer to call `id`: its response, or the protocol/error of a frame it could not take. */
const answerTo =
  (id: number) =>
  (r: WireReceived): boolean =>
    r.message.type === 'protocol/error' || (r.message.type === 'response' && r.message.data.id === id)

beforeAll(async () => {
  server = await startServer({
    script: fixture('servers/frame-cost-server.ts'),
    env: { IPC_STATE_SERVER_OPTIONS: '{"frameTimeout":1000}' },
  })
  other = await connect<typeof costStore>({ ...server.address, timeout: 20_000 })
})

afterAll(async () => {
  await other?.close()
  await server?.[Symbol.asyncDispose]()
})

describe('a server sent a costly binary frame', () => {
  it('refuses a 40-level DAG of structured-clone references at once, and serves another client meanwhile', async () => {
    await watch()
    await using raw = await WireClient.hello(server.path, { binary: true })
    const frame = binaryFrame(packJson(keepCall(1, dagValue(40))))
    expect(frame.length).toBeLessThan(800)
    await raw.write(frame)
    const refused = await raw.waitFor((r) => r.message.type === 'protocol/error', 'a protocol/error')
    expect(refused.message.data).toMatchObject({ error: { code: 'BAD_REQUEST' } })
    expect(await other.actions.increment()).toBeGreaterThan(0)
    const after = await watch()
    expect(after.maxLagMs).toBeLessThan(MAX_LAG_MS)
    expect(after.keptBytes).toBeLessThan(100)
  })

  it('refuses a call whose input is a 22-level DAG: nothing of it reaches the state', async () => {
    await watch()
    await using raw = await WireClient.hello(server.path, { binary: true })
    await raw.write(binaryFrame(packJson(keepCall(2, dagValue(22)))))
    const refused = await raw.waitFor(answerTo(2), 'an answer')
    expect(refused.message.type).toBe('protocol/error')
    expect(refused.message.data).toMatchObject({ error: { code: 'BAD_REQUEST' } })
    expect(await other.actions.increment()).toBeGreaterThan(0)
    const after = await watch()
    expect(after.keptBytes).toBeLessThan(100)
    expect(after.maxLagMs).toBeLessThan(MAX_LAG_MS)
  })

  it('closes a connection that sends 16 MiB of empty maps, within its memory budget, and serves another client meanwhile', async () => {
    const before = await watch()
    await using raw = await WireClient.hello(server.path, { binary: true })
    // The server may close the connection before it took every byte.
    await raw.write(emptyMapsFrame((fill) => keepCall(3, fill), MAX_FRAME_BYTES)).catch(() => {})
    const refused = await raw.waitFor(answerTo(3), 'an answer')
    expect(refused.message.data).toMatchObject({ fatal: true, error: { code: 'FRAME_TOO_LARGE' } })
    await raw.closed
    expect(await other.actions.increment()).toBeGreaterThan(0)
    const after = await watch()
    expect(after.keptBytes).toBeLessThan(100)
    expect(after.maxLagMs).toBeLessThan(MAX_LAG_MS)
    expect(after.peakRss - before.rss).toBeLessThan(ONE_FRAME_BYTES)
  })

  it('closes four connections that send 16 MiB of empty maps at once, its RSS within its budgets', async () => {
    const before = await watch()
    const frame = emptyMapsFrame((fill) => keepCall(4, fill), MAX_FRAME_BYTES)
    const raws = await Promise.all(Array.from({ length: 4 }, () => WireClient.hello(server.path, { binary: true })))
    try {
      await Promise.all(raws.map((raw) => raw.write(frame).catch(() => {})))
      const calls = Promise.all(Array.from({ length: 5 }, () => other.actions.increment()))
      await Promise.all(raws.map((raw) => raw.closed))
      for (const raw of raws) {
        const answer = raw.received.find((r) => r.message.type === 'response' && r.message.data.id === 4)
        expect(answer, 'a call of empty maps was answered').toBeUndefined()
      }
      expect(await calls).toHaveLength(5)
      const after = await watch()
      expect(after.keptBytes).toBeLessThan(100)
      expect(after.maxLagMs).toBeLessThan(MAX_LAG_MS)
      // Unfinished frames within their budget, and one frame's objects decoded at a time.
      expect(after.peakRss - before.rss).toBeLessThan(MAX_TOTAL_PENDING_BYTES + ONE_FRAME_BYTES)
    } finally {
      for (const raw of raws) raw.socket.destroy()
    }
  })

  it('closes a connection that sends a binary header and nothing more, after frameTimeout', async () => {
    await using raw = await WireClient.hello(server.path, { binary: true })
    await raw.write(Uint8Array.of(0x00, 0x00, 0x00, 0x00, 0x10))
    const closing = await raw.waitFor((r) => r.message.type === 'protocol/error', 'a protocol/error')
    expect(closing.message.data).toMatchObject({ fatal: true, error: { code: 'TIMEOUT' } })
    await raw.closed
    expect(await other.actions.increment()).toBeGreaterThan(0)
  })
})

describe('a client sent a costly snapshot by a hostile server', () => {
  for (const snapshot of ['dag', 'empty-maps'] as const) {
    it(`refuses a hello answered with ${snapshot === 'dag' ? 'a 40-level DAG' : '16 MiB of empty maps'}, unblocked and within its memory`, async () => {
      await using hostile = await startServer({
        script: fixture('servers/costly-snapshot-server.ts'),
        env: { IPC_STATE_SNAPSHOT: snapshot },
      })
      await using client = startFixture(fixture('clients/costly-frame-client.ts'), {
        env: { ...addressEnv(hostile.address), IPC_STATE_MAX_FRAME_BYTES: String(MAX_FRAME_BYTES) },
      })
      // Well within the test's own timeout: a client that hangs fails the test, and is killed.
      const result = await Promise.race([
        client.waitFor('result'),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('the client reported nothing within 30 s')), 30_000).unref(),
        ),
      ])
      expect(hostile.process.events.some((e) => e.event === 'sent')).toBe(true)
      expect(result).toMatchObject({ connected: false })
      expect(result.maxLagMs as number).toBeLessThan(MAX_LAG_MS)
      expect((result.peakRss as number) - (result.baseRss as number)).toBeLessThan(ONE_FRAME_BYTES)
    })
  }
})
