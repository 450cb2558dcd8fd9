import { connect } from '@ipc-state/client'
import { describe, expect, it } from 'vitest'
import { startServer } from '../src/processes/server-fixture.js'
import type { TestStore } from '../src/stores/test-store.js'

describe('smoke', () => {
  it('a client in this process talks to a server process', async () => {
    await using server = await startServer()
    await using client = await connect<TestStore>(server.address)
    expect(await client.actions.increment(3)).toBe(3)
    expect(client.state.counter).toBe(3)
  })
})
