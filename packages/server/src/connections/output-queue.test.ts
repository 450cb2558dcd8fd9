import { describe, expect, it } from 'vitest'
import { MemoryBudget, QueueCosts, SharedBytes } from './memory-budget.js'
import { OutputQueue } from './output-queue.js'
import { recordingSink } from '../../test/test-helpers.js'

const { CHUNK, WAITING, HANDED } = QueueCosts
const text = (bytes: Uint8Array) => Buffer.from(bytes).toString('utf8')

describe('OutputQueue', () => {
  it('hands parts over while the transport takes them, and keeps the rest waiting, counted', () => {
    const budget = new MemoryBudget({ maxTotalBufferedBytes: 1e9, maxTotalPendingBytes: 1e9 })
    const sink = recordingSink(1)
    const queue = new OutputQueue(budget, sink)
    const change = new SharedBytes(Buffer.from('change'))
    queue.push('first')
    queue.push(change)
    queue.push('çğ')
    expect(sink.writes.map((w) => text(w.bytes))).toEqual(['first'])
    expect(queue.bytes).toBe(5 + 6 + 4)
    expect(budget.queuedBytes).toBe(5 + CHUNK + HANDED + (6 + CHUNK + WAITING) + (4 + CHUNK + WAITING))
    sink.flush()
    expect(budget.queuedBytes).toBe(6 + CHUNK + WAITING + (4 + CHUNK + WAITING))
    // Drained: the small parts that waited go out copied into one write, in order.
    sink.room = Number.POSITIVE_INFINITY
    queue.drain()
    expect(sink.writes.map((w) => text(w.bytes))).toEqual(['changeçğ'])
    expect(budget.queuedBytes).toBe(10 + CHUNK + HANDED)
    sink.flush()
    expect(budget.queuedBytes).toBe(0)
    expect(queue.bytes).toBe(0)
  })

  it('hands a large part over as it is, never copied, and stops when the transport says so', () => {
    const budget = new MemoryBudget({ maxTotalBufferedBytes: 1e9, maxTotalPendingBytes: 1e9 })
    const sink = recordingSink(1)
    const queue = new OutputQueue(budget, sink)
    const snapshot = new SharedBytes(Buffer.alloc(100_000, 's'), 'snapshot')
    queue.push('head')
    queue.push(snapshot)
    queue.push('tail')
    expect(queue.snapshotBytes).toBe(100_000)
    sink.flush()
    queue.drain()
    // The transport took one write, then wanted to drain again.
    expect(sink.writes).toHaveLength(1)
    expect(sink.writes[0]!.bytes).toBe(snapshot.bytes)
    sink.flush()
    queue.drain()
    expect(sink.writes.map((w) => text(w.bytes))).toEqual(['tail'])
    expect(queue.snapshotBytes).toBe(0)
  })

  it('releases everything at once, waiting and handed, and ignores later callbacks', () => {
    const budget = new MemoryBudget({ maxTotalBufferedBytes: 1e9, maxTotalPendingBytes: 1e9 })
    const sink = recordingSink(1)
    const queue = new OutputQueue(budget, sink)
    const shared = new SharedBytes(Buffer.alloc(10))
    const other = new OutputQueue(budget, recordingSink())
    other.push(shared)
    for (let i = 0; i < 1_000; i++) queue.push(i % 2 === 0 ? shared : `private ${i}`)
    expect(queue.bytes).toBeGreaterThan(10_000)
    queue.release()
    expect(queue.bytes).toBe(0)
    // Only the other queue's hold of the shared bytes is left.
    expect(budget.queuedBytes).toBe(10 + CHUNK + HANDED)
    sink.flush()
    queue.push('after')
    expect(budget.queuedBytes).toBe(10 + CHUNK + HANDED)
  })

  it('hands everything waiting over at once on flush, for a connection closing gracefully', () => {
    const budget = new MemoryBudget({ maxTotalBufferedBytes: 1e9, maxTotalPendingBytes: 1e9 })
    const sink = recordingSink(1)
    const queue = new OutputQueue(budget, sink)
    for (const text of ['a', 'b', 'c']) queue.push(text)
    queue.flush()
    expect(sink.writes.map((w) => text(w.bytes))).toEqual(['a', 'b', 'c'])
  })
})
