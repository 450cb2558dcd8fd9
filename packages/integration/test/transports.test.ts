import { createServer } from '@ipc-state/server'
import { describe, expect, it } from 'vitest'
import { channelServerTransport } from '../src/channel-transport.js'
import { ask, disposeAll, fixture, startFixture } from '../src/processes.js'
import { testStore } from '../src/test-store.js'

/** Modules a built package may import that are not Node built-ins: its own chunks, and its dependencies. */
const isOwnChunk = (specifier: string) => specifier.startsWith('./')

describe('a transport written from the exported types alone', () => {
  it('carries a server and two clients in other processes: calls, and each replica sees the other client’s change', async () => {
    const transport = channelServerTransport()
    await using server = await createServer({ store: testStore, transport })
    expect(server.path).toBe('parent channel')
    await using clients = disposeAll([0, 1].map(() => startFixture(fixture('channel-client.ts'), { ipc: true })))
    for (const client of clients) transport.attach(client.child)
    const [first, second] = clients
    const connected = await Promise.all(clients.map((client) => client.waitFor('connected')))
    expect(connected.map((event) => event.path)).toEqual(['parent channel', 'parent channel'])
    await expect.poll(() => server.connectionCount).toBe(2)

    expect((await ask(first!, { op: 'call', action: 'increment', input: 2 })).value).toBe(2)
    expect((await ask(second!, { op: 'call', action: 'increment', input: 3 })).value).toBe(5)
    // The first client's replica gets the second client's change.
    expect((await ask(first!, { op: 'report', counter: 5 })).state).toMatchObject({ counter: 5 })
    expect(server.state.counter).toBe(5)
  })
})

describe('the client loads no Node.js built-in and no node-ipc until the Unix socket is used', () => {
  it('over a transport of its own, its modules import only protocol and their own chunks; the socket brings node-ipc', async () => {
    const transport = channelServerTransport()
    await using server = await createServer({ store: testStore, transport })
    await using client = startFixture(fixture('channel-client.ts'), {
      ipc: true,
      nodeArgs: ['--import', fixture('record-imports.mjs')],
    })
    transport.attach(client.child)
    await client.waitFor('connected')
    expect((await ask(client, { op: 'call', action: 'increment', input: 1 })).value).toBe(1)
    expect(server.version).toBe(1)

    const { imported } = (await ask(client, { op: 'imports' })) as unknown as { imported: Record<string, string[]> | null }
    expect(imported, 'record-imports.mjs saw the packages load').not.toBeNull()
    expect(imported!.client!.filter((specifier) => !isOwnChunk(specifier))).toEqual(['@ipc-state/protocol'])
    // Protocol needs only its MessagePack library (whose Node entry is its own business; bundlers
    // for a page take its browser entry).
    expect(imported!.protocol!.filter((specifier) => !isOwnChunk(specifier))).toEqual(['msgpackr'])

    // The check sees what the socket transport brings, once it is used.
    const socket = (await ask(client, { op: 'socket' })) as unknown as { code: string; imported: Record<string, string[]> }
    expect(socket.code).toBe('SERVER_UNAVAILABLE')
    expect(socket.imported.client).toEqual(expect.arrayContaining(['node-ipc', expect.stringMatching(/^(node:)?fs$/)]))
  })
})
