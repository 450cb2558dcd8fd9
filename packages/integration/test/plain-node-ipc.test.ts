import { connect } from '@ipc-state/client'
import { describe, expect, it } from 'vitest'
import { addressEnv } from '../src/processes/fixture-env.js'
import { fixture, runNode } from '../src/processes/processes.js'
import { startServer } from '../src/processes/server-fixture.js'
import type { TestState, TestStore } from '../src/stores/test-store.js'

describe('a plain node-ipc client, as the seed wrote one', () => {
  it("a plain node-ipc 12 client written as the seed's read_ipc.js gets sharedData with the current state", async () => {
    // The seed's own names: the socket is socketRoot + 'ipc-ogreniyorum' + 'server-socket'.
    await using server = await startServer({ appspace: 'ipc-ogreniyorum', id: 'server-socket' })
    expect(server.path).toBe(`${server.socketRoot}ipc-ogreniyorumserver-socket`)

    await using client = await connect<TestStore>(server.address)
    await client.actions.increment(5)
    await client.actions.addMessage('merhaba')
    const view = await server.view()

    const run = await runNode(fixture('clients/seed-client.cjs'), addressEnv(server.address))
    expect(run, run.stderr).toMatchObject({ code: 0 })
    const line = run.stdout.split('\n').find((text) => text.startsWith('{"event":"sharedData"'))
    expect(line, run.stdout).toBeDefined()
    const data = (JSON.parse(line!) as { data: TestState }).data
    expect(data.counter).toBe(5)
    expect(data.messages).toEqual([{ id: 1, text: 'merhaba', from: client.clientId, at: 2 }])
    expect(data).toEqual(view.state)
  })
})
