// Binary frames between a real server process and the clients that offer them, beside clients that
// do not: large values go as MessagePack behind a length, and arrive exactly as JSON would give
// them; a plain client never sees a binary frame; a hostile length closes only its connection.
import { deserialize } from 'node:v8'
import { connect, type IpcStateClient } from '@ipc-state/client'
import type { ServerInfoConnection } from '@ipc-state/protocol'
import { BINARY_HEADER_BYTES, encodeBinaryFrame } from '@ipc-state/protocol/wire'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { addressEnv } from '../src/processes/fixture-env.js'
import type { JsonValuesStore, Op } from '../src/stores/json-values.js'
import { ask, fixture, runNode } from '../src/processes/processes.js'
import { type ServerHandle, startServer } from '../src/processes/server-fixture.js'
import { WireClient } from '../src/peers/wire-client.js'

type Client = IpcStateClient<JsonValuesStore>

let server: ServerHandle
let writer: Client

/** The server's own state, in V8's serialisation, which keeps what JSON would hide. */
async function serverState(): Promise<{ state: unknown; version: number }> {
  const event = await ask(server.process, 'state')
  return { state: deserialize(Buffer.from(event.v8 as string, 'base64')), version: event.version as number }
}

/** What the server says of `client`'s connection: its binary frames, counted by the server. */
async function connectionOf(client: Client): Promise<ServerInfoConnection> {
  const info = await client.serverInfo()
  const connection = info.connections.find((c) => c.clientId === client.clientId)
  if (connection === undefined) throw new Error(`no connection of ${client.clientId} in server/info`)
  return connection
}

const set = (path: string[], v: string | number | boolean | null): Op => ({ op: 'set', path, value: { t: 'json', v } })
/** About 300 KB of JSON in many small objects and some long strings, with characters of every width. */
const bigItems = Array.from({ length: 2000 }, (_, i) => ({
  id: i,
  text: `çok güzel € 𝄞 ${i}`.repeat(3),
  at: 1_700_000_000_000 + i,
}))

beforeAll(async () => {
  server = await startServer({ script: fixture('servers/json-values-server.ts') })
  writer = await connect<JsonValuesStore>({ ...server.address, timeout: 10_000 })
  await writer.actions.apply(set(['blob'], 'x'.repeat(100_000)))
  for (let i = 0; i < bigItems.length; i += 500) {
    const items = bigItems.slice(i, i + 500).map((item) => ({
      t: 'object' as const,
      entries: Object.entries(item).map(([key, v]): [string, { t: 'json'; v: string | number }] => [key, { t: 'json', v }]),
    }))
    await writer.actions.apply({ op: 'push', path: ['items'], values: items })
  }
})

afterAll(async () => {
  await writer?.close()
  await server?.[Symbol.asyncDispose]()
})

describe('a library client and server', () => {
  it('send large calls and snapshots as binary frames, and every replica holds exactly the server’s state', async () => {
    const before = await connectionOf(writer)
    expect(before.binary).toBe(true)
    // The blob and the four pushes of 500 items: each call went as one binary frame.
    expect(before.binaryFramesReceived).toBe(5)
    const echoed = await writer.actions.apply(set(['unicode'], 'ğ𝄞€'.repeat(5_000)))
    expect(echoed).toBe('ğ𝄞€'.repeat(5_000))
    expect((await connectionOf(writer)).binaryFramesReceived).toBe(6)
    // A small call stays JSON text.
    await writer.actions.apply(set(['small'], 1))
    expect((await connectionOf(writer)).binaryFramesReceived).toBe(6)

    await using reader = await connect<JsonValuesStore>({ ...server.address, timeout: 10_000 })
    const { state, version } = await serverState()
    expect(reader.version).toBe(version)
    expect(reader.state).toStrictEqual(JSON.parse(JSON.stringify(state)))
    expect((reader.state as { items: unknown[] }).items).toEqual(bigItems)
    // Its hello's snapshot came as one binary frame; a state/get is a snapshot too.
    expect((await connectionOf(reader)).binaryFramesSent).toBe(1)
    expect(await reader.getState()).toStrictEqual(reader.state)
    expect((await connectionOf(reader)).binaryFramesSent).toBe(2)
  })

  it('deliver what an action wrote that JSON would change (a Date, undefined, -0) exactly as JSON gives it', async () => {
    await writer.actions.apply({ op: 'set', path: ['when'], value: { t: 'date', ms: 0 } })
    await writer.actions.apply({ op: 'set', path: ['gone'], value: { t: 'undefined' } })
    await writer.actions.apply({ op: 'set', path: ['zero'], value: { t: '-0' } })
    await using reader = await connect<JsonValuesStore>({ ...server.address, timeout: 10_000 })
    const { state } = await serverState()
    expect(reader.state).toStrictEqual(JSON.parse(JSON.stringify(state)))
    expect((reader.state as { when: unknown }).when).toBe('1970-01-01T00:00:00.000Z')
    expect(reader.state).not.toHaveProperty('gone')
    expect(Object.is((reader.state as { zero: number }).zero, 0)).toBe(true)
    expect((await connectionOf(reader)).binaryFramesSent).toBe(1)
    await writer.actions.apply({ op: 'delete', path: ['when'] })
  })

  it('take binary frames from a raw client that offered them, and answer with them', async () => {
    await using raw = await WireClient.hello(server.path, { binary: true, replica: true })
    expect((await raw.response(0)).kind).toBe('binary')
    await raw.send({ type: 'state/get', data: { id: 1 } })
    const answer = await raw.response(1)
    expect(answer.kind).toBe('binary')
    expect(answer.message.data.result).toMatchObject({ state: { blob: 'x'.repeat(100_000) } })
    await raw.send(
      { type: 'action/call', data: { id: 2, action: 'apply', input: set(['raw'], 'r'.repeat(20_000)) } },
      { binary: true },
    )
    expect((await raw.response(2)).message.data.result).toMatchObject({ value: 'r'.repeat(20_000) })
  })
})

describe('clients that did not offer binary frames', () => {
  it('a raw client that did not offer them gets only \\f-delimited JSON, snapshots too', async () => {
    await using raw = await WireClient.hello(server.path, { binary: false, replica: true })
    await raw.send({ type: 'state/get', data: { id: 1 } })
    await raw.response(1)
    expect(raw.received.every((r) => r.kind === 'text')).toBe(true)
    // JSON text never holds a raw NUL, and every binary frame starts with one.
    expect(raw.wire.length).toBeGreaterThan(2 * 300_000)
    expect(raw.wire.includes(0)).toBe(false)
  })

  it('a plain node-ipc client, as the seed wrote one, gets the large state in sharedData', async () => {
    const { state } = await serverState()
    const run = await runNode(fixture('clients/seed-client.cjs'), addressEnv(server.address))
    expect(run, run.stderr).toMatchObject({ code: 0 })
    const line = run.stdout.split('\n').find((text) => text.startsWith('{"event":"sharedData"'))
    expect(line, run.stdout.slice(0, 500)).toBeDefined()
    expect((JSON.parse(line!) as { data: unknown }).data).toEqual(JSON.parse(JSON.stringify(state)))
  })

  it('a raw client that sends a binary frame without having offered them is closed, with the reason', async () => {
    await using raw = await WireClient.hello(server.path, { binary: false })
    const frame = encodeBinaryFrame({ type: 'state/get', data: { id: 1, pad: 'p'.repeat(10_000) } })!
    await raw.write(frame)
    const closing = await raw.waitFor((r) => r.message.type === 'protocol/error', 'a protocol/error')
    expect(closing.message.data).toMatchObject({ fatal: true, error: { code: 'BAD_REQUEST' } })
    await raw.closed
  })
})

describe('hostile binary frames', () => {
  it('a binary header claiming 4 GiB closes that connection at once, and the server allocates nothing for it', async () => {
    const before = await server.stats()
    await using raw = await WireClient.hello(server.path, { binary: true })
    await raw.write(Uint8Array.of(0x00, 0xff, 0xff, 0xff, 0xff, 0x01, 0x02))
    const closing = await raw.waitFor((r) => r.message.type === 'protocol/error', 'a protocol/error')
    expect(closing.message.data).toMatchObject({ fatal: true, error: { code: 'FRAME_TOO_LARGE' } })
    await raw.closed
    const after = await server.stats()
    expect(after.rss - before.rss).toBeLessThan(64 * 1024 * 1024)
    // Everyone else is still served.
    expect(await writer.actions.apply(set(['after'], 1))).toBe(1)
  })

  it('a binary frame whose body is not MessagePack gets a BAD_REQUEST, and the connection stays usable', async () => {
    await using raw = await WireClient.hello(server.path, { binary: true })
    const garbage = Buffer.alloc(BINARY_HEADER_BYTES + 3)
    garbage.writeUInt32BE(3, 1)
    garbage.set([0xc1, 0xc1, 0xc1], BINARY_HEADER_BYTES)
    await raw.write(garbage)
    const error = await raw.waitFor((r) => r.message.type === 'protocol/error', 'a protocol/error')
    expect(error.message.data).toMatchObject({ fatal: false, error: { code: 'BAD_REQUEST' } })
    await raw.send({ type: 'state/get', data: { id: 7 } })
    expect((await raw.response(7)).message.data.result).toMatchObject({ version: expect.any(Number) })
  })
})
