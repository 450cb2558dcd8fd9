import { connect } from '@ipc-state/client'
import { describe, expect, it } from 'vitest'
import { startClients } from '../src/processes/client-fixture.js'
import { ask, tempSocketRoot } from '../src/processes/processes.js'
import { startServer } from '../src/processes/server-fixture.js'
import type { TestStore } from '../src/stores/test-store.js'

describe('concurrent calls from several processes', () => {
  it('4 processes × 500 concurrent increments: exactly 2000, each caller saw its own unique value', async () => {
    await using dir = await tempSocketRoot()
    // The clients start alongside the server, and connect once it listens.
    const starting = startServer(dir)
    await using workers = startClients(4, dir)
    await using server = await starting
    await Promise.all(workers.map((worker) => worker.waitFor('connected')))

    // Each worker issues its 500 calls at once.
    const bursts = await Promise.all(workers.map((worker) => ask(worker, { op: 'burst', action: 'increment', count: 500 })))

    const all: number[] = []
    for (const burst of bursts) {
      expect(burst.errors).toEqual([])
      expect(burst.rywViolations).toBe(0)
      const values = burst.values as number[]
      expect(values).toHaveLength(500)
      expect(new Set(values).size).toBe(500)
      all.push(...values)
    }
    expect(all.sort((a, b) => a - b)).toEqual(Array.from({ length: 2000 }, (_, i) => i + 1))

    const view = await server.view()
    expect(view.state.counter).toBe(2000)
    expect(view.version).toBe(2000)

    await using fresh = await connect<TestStore>(server.address)
    expect((await fresh.getState()).counter).toBe(2000)
    expect(fresh.state.counter).toBe(2000)
    expect(fresh.version).toBe(2000)
  })
})
