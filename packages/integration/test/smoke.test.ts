import { connect } from '@ipc-state/client'
import { describe, expect, it } from 'vitest'
import { fixture, startFixture, tempSocketRoot } from '../src/processes.js'
import type { TestStore } from '../src/test-store.js'

describe('smoke', () => {
  it('a client in this process talks to a server process', async () => {
    await using dir = await tempSocketRoot()
    await using server = startFixture(fixture('server.ts'), { env: { IPC_STATE_SOCKET_ROOT: dir.socketRoot } })
    await server.waitFor('ready')
    await using client = await connect<TestStore>({ socketRoot: dir.socketRoot, appspace: 'test.', id: 'server' })
    expect(await client.actions.increment(3)).toBe(3)
    expect(client.state.counter).toBe(3)
  })
})
