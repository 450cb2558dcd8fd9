import { applyPatches, deepFreeze } from '@ipc-state/protocol'
import { ServerMessageType, type HelloResult, type ServerMessage, type StateChangedNotification } from '@ipc-state/protocol/wire'
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

/** A connection that keeps what it is sent, decoded. */
function peer(batch: boolean) {
  const frames: (SharedBytes | string)[] = []
  const connection = {
    batch,
    gathered: false,
    send: (frame: SharedBytes | string) => frames.push(frame),
    refuse() {},
  }
  const messages = () =>
    frames.map((frame) => {
      const text = typeof frame === 'string' ? frame : Buffer.from(frame.bytes).toString('utf8')
      return JSON.parse(text.slice(0, -1)) as ServerMessage
    })
  return { connection, frames, messages }
}

const patch = (value: number) => `[{"op":"replace","path":["n"],"value":${value}}]`

describe('FanOut', () => {
  it('encodes a change once and sends the same bytes to every replica until it is removed', () => {
    const a = peer(false)
    const b = peer(false)
    const fanOut = new FanOut<FanOutReplica>()
    fanOut.add(a.connection)
    fanOut.add(b.connection)
    fanOut.publish('epoch-1', 1, patch(1))
    fanOut.flush()
    fanOut.delete(a.connection)
    fanOut.publish('epoch-1', 2, '[]')
    fanOut.flush()
    expect(a.frames).toHaveLength(1)
    expect(b.frames).toHaveLength(2)
    expect(b.frames[0]).toBe(a.frames[0])
    expect(fanOut.size).toBe(1)
  })

  it("sends a turn's changes at the end of the turn: one shared frame to batched replicas, one per version to the others", async () => {
    const batched = [peer(true), peer(true)]
    const single = peer(false)
    const fanOut = new FanOut<FanOutReplica>()
    for (const { connection } of [...batched, single]) fanOut.add(connection)
    fanOut.publish('e', 1, patch(1), 'set', 'c1')
    fanOut.publish('e', 2, '[]', 'set', 'c1')
    fanOut.publish('e', 3, patch(3), 'set', 'c2')
    expect(single.frames).toHaveLength(0)
    await new Promise<void>((resolve) => process.nextTick(resolve))
    expect(batched[0]!.frames).toHaveLength(1)
    expect(batched[1]!.frames[0]).toBe(batched[0]!.frames[0])
    expect(batched[0]!.messages()).toEqual([
      {
        type: ServerMessageType.StateChanged,
        data: { epoch: 'e', version: 3, from: 1, action: 'set', patches: [...JSON.parse(patch(1)), ...JSON.parse(patch(3))] },
      },
    ])
    expect(single.messages().map((m) => (m.data as StateChangedNotification).version)).toEqual([1, 2, 3])
  })

  it("puts a batched replica's answers inside the change that shows them, and every other answer after the changes", () => {
    const caller = peer(true)
    const watcher = peer(true)
    const writer = peer(true)
    const old = peer(false)
    const fanOut = new FanOut<FanOutReplica>()
    fanOut.add(caller.connection)
    fanOut.add(watcher.connection)
    fanOut.add(old.connection)
    fanOut.publish('e', 1, patch(1))
    fanOut.answer(caller.connection, '{"id":7,"result":{"version":1}}', 1)
    fanOut.answer(caller.connection, '{"id":8,"result":{"value":0,"version":1}}')
    fanOut.answer(writer.connection, '{"id":1,"result":{"version":1}}', 1)
    fanOut.answer(writer.connection, '{"id":2,"error":{"code":"ACTION_FAILED","message":"no"}}')
    fanOut.answer(old.connection, '{"id":3,"result":{"version":1}}', 1)
    fanOut.answer(old.connection, '{"id":4,"result":{"version":1}}')
    expect(caller.connection.gathered).toBe(true)
    fanOut.flush()
    expect(caller.connection.gathered).toBe(false)
    expect(caller.messages()).toEqual([
      {
        type: ServerMessageType.StateChanged,
        data: { epoch: 'e', version: 1, patches: JSON.parse(patch(1)), answers: [{ id: 7, result: { version: 1 } }] },
      },
      { type: ServerMessageType.Response, data: { id: 8, result: { value: 0, version: 1 } } },
    ])
    expect(watcher.messages()).toEqual([
      { type: ServerMessageType.StateChanged, data: { epoch: 'e', version: 1, patches: JSON.parse(patch(1)) } },
    ])
    expect(writer.messages()).toEqual([
      {
        type: ServerMessageType.Responses,
        data: [
          { id: 1, result: { version: 1 } },
          { id: 2, error: { code: 'ACTION_FAILED', message: 'no' } },
        ],
      },
    ])
    expect(old.messages().map((m) => m.type)).toEqual([
      ServerMessageType.StateChanged,
      ServerMessageType.Response,
      ServerMessageType.Response,
    ])
  })

  it('gives a replica added in the middle of a turn only the changes made after, and answers for changes already sent on their own', () => {
    const early = peer(true)
    const late = peer(true)
    const fanOut = new FanOut<FanOutReplica>()
    fanOut.add(early.connection)
    fanOut.publish('e', 1, patch(1))
    fanOut.add(late.connection)
    fanOut.answer(late.connection, '{"id":5,"result":{"version":1}}', 1)
    fanOut.publish('e', 2, patch(2))
    fanOut.flush()
    expect(early.messages().map((m) => (m.data as StateChangedNotification).version)).toEqual([1, 2])
    expect(late.messages()).toEqual([
      { type: ServerMessageType.StateChanged, data: { epoch: 'e', version: 2, patches: JSON.parse(patch(2)) } },
      { type: ServerMessageType.Response, data: { id: 5, result: { version: 1 } } },
    ])
  })

  it('starts a new frame at a jump in versions or a new server run', () => {
    const replica = peer(true)
    const fanOut = new FanOut<FanOutReplica>()
    fanOut.add(replica.connection)
    fanOut.publish('e', 1, patch(1))
    fanOut.publish('e', 5, patch(5))
    fanOut.publish('f', 6, patch(6))
    fanOut.flush()
    expect(replica.messages().map((m) => (m.data as StateChangedNotification).version)).toEqual([1, 5, 6])
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
