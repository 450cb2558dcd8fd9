import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { createServer } from '@ipc-state/server'
import { describe, expect, it } from 'vitest'
import { channelServerTransport } from '../src/processes/channel-transport.js'
import { ask, disposeAll, fixture, startFixture } from '../src/processes/processes.js'
import { testStore } from '../src/stores/test-store.js'

const run = promisify(execFile)
const here = fileURLToPath(new URL('..', import.meta.url))

/**
 * Modules a built package may import that are not Node built-ins: its own chunks, and its
 * dependencies. The third-party code it carries in `dist/vendor` (node-ipc, msgpackr's encoder) is
 * not its own chunk: the checks below see when that loads.
 */
const isOwnChunk = (specifier: string) => specifier.startsWith('./') && !specifier.startsWith('./vendor/')
/** What the client's modules may import: the protocol's three entries, none of which imports a Node module. */
const PROTOCOL_ENTRIES = ['@ipc-state/protocol', '@ipc-state/protocol/node', '@ipc-state/protocol/wire']
const imports = (specifiers: readonly string[]) => specifiers.filter((specifier) => !isOwnChunk(specifier)).sort()

describe('a transport written from the exported types alone', () => {
  it('carries a server and two clients in other processes: calls, and each replica sees the other client’s change', async () => {
    const transport = channelServerTransport()
    await using server = await createServer({ store: testStore, transport })
    expect(server.path).toBe('parent channel')
    await using clients = disposeAll([0, 1].map(() => startFixture(fixture('clients/channel-client.ts'), { ipc: true })))
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
    await using client = startFixture(fixture('clients/channel-client.ts'), {
      ipc: true,
      nodeArgs: ['--import', fixture('clients/record-imports.mjs')],
    })
    transport.attach(client.child)
    await client.waitFor('connected')
    expect((await ask(client, { op: 'call', action: 'increment', input: 1 })).value).toBe(1)
    expect(server.version).toBe(1)

    const { imported } = (await ask(client, { op: 'imports' })) as unknown as { imported: Record<string, string[]> | null }
    expect(imported, 'record-imports.mjs saw the packages load').not.toBeNull()
    expect(imports(imported!.client!)).toEqual(PROTOCOL_ENTRIES)
    // Protocol needs only the MessagePack encoder it carries, plain JavaScript.
    expect(imports(imported!.protocol!)).toEqual(['./vendor/msgpackr.js'])

    // The check sees what the socket transport brings, once it is used.
    const socket = (await ask(client, { op: 'socket' })) as unknown as { code: string; imported: Record<string, string[]> }
    expect(socket.code).toBe('SERVER_UNAVAILABLE')
    expect(socket.imported.client).toEqual(expect.arrayContaining(['./vendor/node-ipc.js', expect.stringMatching(/^(node:)?fs$/)]))
  })

  it('in CommonJS too: requiring it and calling over the in-memory pair loads neither', async () => {
    const code = `
      const Module = require('node:module')
      const load = Module._load
      const required = { client: new Set(), protocol: new Set() }
      Module._load = function (request, parent) {
        const from = /\\/packages\\/(client|protocol)\\/dist\\//.exec(parent?.filename ?? '')?.[1]
        if (from !== undefined) required[from].add(request)
        return load.apply(this, arguments)
      }
      const { createServer, defineStore } = require('@ipc-state/server')
      const { memoryTransport } = require('@ipc-state/server/testing')
      const { connect } = require('@ipc-state/client')
      ;(async () => {
        const store = defineStore({ initialState: { n: 0 }, actions: { inc(state) { state.n += 1; return state.n } } })
        const memory = memoryTransport()
        const server = await createServer({ store, transport: memory.server })
        const client = await connect({ transport: memory.client })
        const value = await client.actions.inc()
        const seen = client.state.n
        await client.close()
        await server.close()
        console.log(JSON.stringify({ value, seen, client: [...required.client], protocol: [...required.protocol] }))
      })()`
    const { stdout } = await run(process.execPath, ['--input-type=commonjs', '-e', code], { cwd: here })
    const { value, seen, client, protocol } = JSON.parse(stdout) as {
      value: number
      seen: number
      client: string[]
      protocol: string[]
    }
    expect([value, seen]).toEqual([1, 1])
    expect(imports(client)).toEqual(PROTOCOL_ENTRIES)
    expect(imports(protocol)).toEqual(['./vendor/msgpackr.cjs'])
  })
})
