import { applyPatches, deepFreeze } from '@ipc-state/protocol'
import { ServerMessageType, type HelloResult, type StateChangedNotification } from '@ipc-state/protocol/wire'
import { describe, expect, it } from 'vitest'
import { FanOut, type FanOutReplica } from './fan-out.js'
import type { SharedBytes } from './memory-budget.js'
import type { MemoryPeer } from '../../test/memory-transport.js'
import { call, nonJsonWrites, startTestServer } from '../../test/test-helpers.js'

const changes = (peer: MemoryPeer) =>
  peer.messages.flatMap((m) => (m.type === ServerMessageType.StateChanged ? [m.data as StateChangedNotification] : []))

/** What a replica computes: its hello state with every change applied in order. */
const replicaState = (hello: HelloResult, peer: MemoryPeer) =>
  changes(peer).reduce((state, change) => applyPatches(state, change.patches), deepFreeze(hello.state))

describe('FanOut', () => {
  it('encodes a change once and sends the same bytes to every replica until it is removed', () => {
    const a: SharedBytes[] = []
    const b: SharedBytes[] = []
    const fanOut = new FanOut<FanOutReplica>()
    const replicaA = { send: (frame: SharedBytes) => a.push(frame), refuse() {} }
    fanOut.add(replicaA)
    fanOut.add({ send: (frame: SharedBytes) => b.push(frame), refuse() {} })
    fanOut.publish('epoch-1', 1, '[{"op":"replace","path":["n"],"value":1}]')
    fanOut.delete(replicaA)
    fanOut.publish('epoch-1', 2, '[]')
    expect(a).toHaveLength(1)
    expect(b).toHaveLength(2)
    expect(b[0]).toBe(a[0])
    expect(fanOut.size).toBe(1)
  })
})

describe('fan-out over the server', () => {
  it('sends changes only to replicas, in version order, the same bytes to each', async () => {
    await using t = await startTestServer()
    const { peer: one } = await t.greet({ clientId: 'one', replica: true })
    const { peer: two } = await t.greet({ clientId: 'two', replica: true })
    const { peer: writer } = await t.greet({ clientId: 'writer', replica: false })
    for (let id = 1; id <= 4; id++) await call(writer, id, 'increment', id)
    await two.waitFor((m) => m.type === ServerMessageType.StateChanged && m.data.version === 4)
    expect(changes(one).map((c) => c.version)).toEqual([1, 2, 3, 4])
    expect(changes(one).every((c) => c.epoch === t.server.epoch)).toBe(true)
    expect(one.frames.slice(1)).toEqual(two.frames.slice(1))
    expect(writer.messages.every((m) => m.type === ServerMessageType.Response)).toBe(true)
  })

  it('tells each replica which action made a change and which client called it', async () => {
    await using t = await startTestServer()
    const { peer: replica } = await t.greet({ clientId: 'replica', replica: true })
    const { peer: writer } = await t.greet({ clientId: 'writer-1', replica: false })
    await call(writer, 1, 'increment', 2)
    await call(replica, 1, 'append', 'a')
    await replica.waitFor((m) => m.type === ServerMessageType.StateChanged && m.data.version === 2)
    expect(changes(replica).map(({ version, action, clientId }) => ({ version, action, clientId }))).toEqual([
      { version: 1, action: 'increment', clientId: 'writer-1' },
      { version: 2, action: 'append', clientId: 'replica' },
    ])
  })

  it('stops sending to a replica that closed, and keeps serving the others', async () => {
    await using t = await startTestServer()
    const { peer: gone } = await t.greet({ clientId: 'gone', replica: true })
    const { peer: stays } = await t.greet({ clientId: 'stays', replica: true })
    gone.close()
    await gone.closed
    await call(stays, 1, 'increment', 1)
    expect(changes(stays).map((c) => c.version)).toEqual([1])
    expect(t.server.connectionCount).toBe(1)
  })

  it('keeps every replica equal to the server when an action writes undefined, NaN or a Date', async () => {
    await using t = await startTestServer()
    const early = await t.greet({ clientId: 'early', replica: true })
    const { peer: writer } = await t.greet({ clientId: 'writer' })
    let late: { peer: MemoryPeer; result: HelloResult } | undefined
    for (const step of nonJsonWrites.keys()) {
      expect((await call(writer, step + 1, 'writeOdd', step)).error).toBeUndefined()
      // One replica joins midway, from the snapshot its hello carries.
      if (step === 1) late = await t.greet({ clientId: 'late', replica: true })
    }
    await late!.peer.waitFor((m) => m.type === ServerMessageType.StateChanged && m.data.version === t.server.version)
    expect(t.server.version).toBeGreaterThanOrEqual(nonJsonWrites.length - 1)
    for (const replica of [early, late!]) expect(replicaState(replica.result, replica.peer)).toStrictEqual(t.server.state)
    // And the server holds what JSON carries: nothing a replica could not hold.
    expect(JSON.parse(JSON.stringify(t.server.state))).toStrictEqual(t.server.state)
  })
})
