import { describe, expect, it } from 'vitest'
import { ask, crashLines, fixture } from '../src/processes/processes.js'
import { RawClient } from '../src/peers/raw-client.js'
import { startServer } from '../src/processes/server-fixture.js'

describe('exactly once, at the wire', () => {
  it('a call resent while its first copy still waits in the queue is applied once and answered on the new connection', async () => {
    // `gated` has an asynchronous input check that waits until the test releases it.
    await using server = await startServer({ script: fixture('servers/gated-server.ts') })
    const first = await RawClient.hello(server.path, { clientId: 'same-instance' })
    await first.send({ type: 'action/call', data: { id: 5, action: 'gated', input: 1 } })
    await server.process.waitFor('checking')
    await first.close()

    // The same instance comes back on a new connection and resends what was unanswered.
    await using second = await RawClient.hello(server.path, { clientId: 'same-instance', id: 1 })
    await second.send({ type: 'action/call', data: { id: 5, action: 'gated', input: 1 } })
    await second.send({ type: 'action/call', data: { id: 6, action: 'increment', input: 0 } })
    await ask(server.process, 'release', 'released')

    expect((await second.response(5)).data.result.value).toBe(1)
    // Answered after call 5 (one queue, one order): the counter shows call 5 applied once.
    expect((await second.response(6)).data.result.value).toBe(1)
    expect(second.frames.filter((frame) => frame.type === 'response' && frame.data?.id === 5)).toHaveLength(1)
    expect(server.process.events.filter((event) => event.event === 'checking')).toHaveLength(1)
    expect(crashLines(server.process)).toEqual([])
  })
})
