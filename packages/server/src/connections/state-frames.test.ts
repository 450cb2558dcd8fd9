import { ErrorCode, type IpcStateError } from '@ipc-state/protocol'
import {
  BINARY_FRAME_MARKER,
  BINARY_HEADER_BYTES,
  BINARY_MIN_BYTES,
  ClientMessageType,
  FRAME_DELIMITER,
  ServerMessageType,
  decodeServerMessage,
} from '@ipc-state/protocol/wire'
import { describe, expect, it } from 'vitest'
import { MemoryBudget, QueueCosts } from './memory-budget.js'
import { OutputQueue } from './output-queue.js'
import { StateFrames } from './state-frames.js'
import { call, recordingSink, startTestServer } from '../../test/test-helpers.js'

/** A state whose reads are counted: each encode of it reads it once. */
function countingSource(initial: unknown) {
  let state = initial
  let reads = 0
  return {
    version: 0,
    get state() {
      reads += 1
      return state
    },
    set(next: unknown) {
      state = next
      this.version += 1
    },
    get reads() {
      return reads
    },
  }
}

const text = (frame: readonly [string, { bytes: Uint8Array }, string]) =>
  frame[0] + Buffer.from(frame[1].bytes).toString('utf8') + frame[2]

describe('StateFrames', () => {
  it('encodes the state once per version and shares the same bytes with every frame at that version', () => {
    const source = countingSource({ list: ['ğ', 'x'] })
    const cache = new StateFrames(source, new MemoryBudget({ maxTotalBufferedBytes: 1e9, maxTotalPendingBytes: 1e9 }))
    const got = cache.frame((state) => ({ type: ServerMessageType.SeedSharedData, data: state }))
    const answer = cache.frame((state) => ({
      type: ServerMessageType.Response,
      data: { id: 7, result: { epoch: 'e', version: 0, state } },
    }))
    expect(source.reads).toBe(1)
    expect(answer[1]).toBe(got[1])
    expect(text(got)).toBe(`{"type":"sharedData","data":{"list":["ğ","x"]}}${FRAME_DELIMITER}`)
    expect(decodeServerMessage(text(answer).slice(0, -1))).toMatchObject({
      ok: true,
      message: { data: { id: 7, result: { version: 0, state: { list: ['ğ', 'x'] } } } },
    })
    source.set({ list: [] })
    const later = cache.frame((state) => ({ type: ServerMessageType.SeedSharedData, data: state }))
    expect(source.reads).toBe(2)
    expect(later[1]).not.toBe(got[1])
    expect(cache.version).toBe(1)
  })

  it('holds the current snapshot outside the budget, and counts an old one while a connection still queues it', () => {
    const budget = new MemoryBudget({ maxTotalBufferedBytes: 1e9, maxTotalPendingBytes: 1e9 })
    const source = countingSource({ blob: 'b'.repeat(10_000) })
    const cache = new StateFrames(source, budget)
    const sink = recordingSink()
    const queue = new OutputQueue(budget, sink)
    const [, state] = cache.frame((s) => ({ type: ServerMessageType.SeedSharedData, data: s }))
    queue.push(state)
    expect(budget.queuedBytes).toBe(QueueCosts.HANDED)
    cache.drop()
    expect(cache.version).toBeUndefined()
    expect(budget.queuedBytes).toBe(QueueCosts.HANDED + QueueCosts.CHUNK + state.bytes.length)
    sink.flush()
    expect(budget.queuedBytes).toBe(0)
  })

  it('throws INTERNAL_ERROR when the state cannot be encoded', () => {
    const cache = new StateFrames(
      countingSource({ n: 1n }),
      new MemoryBudget({ maxTotalBufferedBytes: 1e9, maxTotalPendingBytes: 1e9 }),
    )
    let error: IpcStateError | undefined
    try {
      cache.frame((state) => ({ type: ServerMessageType.SeedSharedData, data: state }))
    } catch (thrown) {
      error = thrown as IpcStateError
    }
    expect(error?.code).toBe(ErrorCode.INTERNAL_ERROR)
    expect(error?.message).toMatch(/^The state at version 0 could not be encoded: .*BigInt/)
  })
})

describe('snapshots over the server', () => {
  it('serves hello, state/get and getSharedData at one version from one encode, and a new one after a change', async () => {
    await using t = await startTestServer()
    const { peer: writer } = await t.greet({ clientId: 'writer' })
    await call(writer, 1, 'append', 'çğ')
    const stringify = JSON.stringify
    let encodes = 0
    JSON.stringify = ((value: unknown, ...rest: []) => {
      if (value === t.server.state) encodes += 1
      return stringify(value, ...rest)
    }) as typeof JSON.stringify
    try {
      const replicas = await Promise.all(['a', 'b', 'c'].map((clientId) => t.greet({ clientId, replica: true })))
      writer.send({ type: ClientMessageType.StateGet, data: { id: 2 } })
      const seed = await t.connect()
      seed.write(JSON.stringify({ type: ClientMessageType.SeedGetSharedData }) + FRAME_DELIMITER)
      const expected = { counter: 0, log: ['çğ'], value: null }
      for (const { result } of replicas) expect(result.state).toEqual(expected)
      expect((await writer.response(2)).result).toEqual({ epoch: t.server.epoch, version: 1, state: expected })
      expect((await seed.waitFor((m) => m.type === ServerMessageType.SeedSharedData)).data).toEqual(expected)
      expect(encodes).toBe(1)
      await call(writer, 3, 'increment', 1)
      writer.send({ type: ClientMessageType.StateGet, data: { id: 4 } })
      expect((await writer.response(4)).result).toMatchObject({ version: 2, state: { counter: 1 } })
      expect(encodes).toBe(2)
    } finally {
      JSON.stringify = stringify
    }
  })
})

describe('StateFrames binary frames', () => {
  const budget = () => new MemoryBudget({ maxTotalBufferedBytes: 1e9, maxTotalPendingBytes: 1e9 })
  const answer = (state: unknown) =>
    ({ type: ServerMessageType.Response, data: { id: 3, result: { epoch: 'e', version: 0, state } } }) as const
  const decodeBinary = (parts: readonly { bytes: Uint8Array }[]) => {
    const whole = Buffer.concat(parts.map((part) => part.bytes))
    expect(whole[0]).toBe(BINARY_FRAME_MARKER)
    expect(whole.readUInt32BE(1)).toBe(whole.length - BINARY_HEADER_BYTES)
    return decodeServerMessage(whole.subarray(BINARY_HEADER_BYTES))
  }

  it('gives a large state as a binary frame that decodes to the same message, packing it once per version', () => {
    const state = { list: Array.from({ length: 500 }, (_, i) => ({ id: i, text: `ğ €${i}` })) }
    const source = countingSource(state)
    const cache = new StateFrames(source, budget())
    const first = cache.frame(answer).binary()!
    const second = cache.frame(answer).binary()!
    expect(second[1]).toBe(first[1])
    expect(source.reads).toBe(2)
    expect(decodeBinary(first)).toEqual(decodeServerMessage(text(cache.frame(answer)).slice(0, -1)))
  })

  it('keeps a small state, and one MessagePack would change, as JSON', () => {
    expect(new StateFrames(countingSource({ a: 1 }), budget()).frame(answer).binary()).toBeUndefined()
    const dated = countingSource({ pad: 'x'.repeat(BINARY_MIN_BYTES), at: new Date(0) })
    expect(new StateFrames(dated, budget()).frame(answer).binary()).toBeUndefined()
  })

  it('gives no binary frame for a frame made before the version moved', () => {
    const source = countingSource({ pad: 'x'.repeat(BINARY_MIN_BYTES) })
    const cache = new StateFrames(source, budget())
    const old = cache.frame(answer)
    source.set({ pad: 'y'.repeat(BINARY_MIN_BYTES) })
    cache.frame(answer)
    expect(old.binary()).toBeUndefined()
  })
})
