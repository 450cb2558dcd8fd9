import { ErrorCode, type IpcStateError } from '@ipc-state/protocol'
import { ClientMessageType, FRAME_DELIMITER, ServerMessageType, type ServerMessage } from '@ipc-state/protocol/wire'
import { describe, expect, it, vi } from 'vitest'
import { type BudgetMember, MemoryBudget, QueueCosts, SharedBytes } from './memory-budget.js'
import { OutputQueue } from './output-queue.js'
import { call, recordingSink, startTestServer } from '../../test/test-helpers.js'

const fatal = (message: ServerMessage | undefined) => {
  expect(message?.type).toBe(ServerMessageType.ProtocolError)
  return (message!.data as { error: { code: string; message: string }; fatal: boolean }).error
}

describe('MemoryBudget', () => {
  const limits = { maxTotalBufferedBytes: 1e9, maxTotalPendingBytes: 1e9 }

  it('counts shared bytes once however many queue them, private text each time, and what each part costs', () => {
    const budget = new MemoryBudget(limits)
    const [sinkA, sinkB] = [recordingSink(), recordingSink()]
    const a = new OutputQueue(budget, sinkA)
    const b = new OutputQueue(budget, sinkB)
    const change = new SharedBytes(Buffer.alloc(1_000))
    a.push(change)
    b.push(change)
    b.push('ğ'.repeat(10))
    const { CHUNK, HANDED } = QueueCosts
    expect(budget.queuedBytes).toBe(1_000 + CHUNK + 20 + CHUNK + 3 * HANDED)
    expect(a.bytes).toBe(1_000)
    expect(b.bytes).toBe(1_020)
    // The same bytes went to both transports, not a copy.
    expect(sinkB.writes[0]!.bytes).toBe(sinkA.writes[0]!.bytes)
    sinkA.flush()
    sinkA.flush()
    expect(budget.queuedBytes).toBe(1_000 + CHUNK + 20 + CHUNK + 2 * HANDED)
    b.release()
    expect(budget.queuedBytes).toBe(0)
    expect(b.bytes).toBe(0)
    sinkB.flush()
    expect(budget.queuedBytes).toBe(0)
  })

  it('does not count bytes their owner holds anyway (pinned), and counts them once let go while still queued', () => {
    const budget = new MemoryBudget(limits)
    const sink = recordingSink()
    const queue = new OutputQueue(budget, sink)
    const snapshot = new SharedBytes(Buffer.alloc(5_000), 'snapshot')
    budget.pin(snapshot)
    queue.push(snapshot)
    expect(budget.queuedBytes).toBe(QueueCosts.HANDED)
    expect(queue.snapshotBytes).toBe(5_000)
    budget.unpin(snapshot)
    expect(budget.queuedBytes).toBe(5_000 + QueueCosts.CHUNK + QueueCosts.HANDED)
    sink.flush()
    expect(budget.queuedBytes).toBe(0)
    expect(queue.snapshotBytes).toBe(0)
  })

  /** A member that releases its output and input when shed, as a session does. */
  const member = (budget: MemoryBudget, shed: string[], name: string, pendingBytes = 0) => {
    const output = new OutputQueue(budget, recordingSink())
    const self = {
      output,
      pendingBytes,
      get queuedBytes() {
        return output.bytes
      },
      shed(error: IpcStateError) {
        shed.push(`${name} ${error.code}`)
        output.release()
        budget.changePending(-self.pendingBytes)
        self.pendingBytes = 0
      },
    } satisfies BudgetMember & { output: OutputQueue }
    budget.join(self)
    return self
  }

  it('cuts the members with the most output queued until the total fits, most first', () => {
    const budget = new MemoryBudget({ maxTotalBufferedBytes: 10_000, maxTotalPendingBytes: 1e9 })
    const shed: string[] = []
    const [small, large, medium] = ['small', 'large', 'medium'].map((name) => member(budget, shed, name))
    small!.output.push(new SharedBytes(Buffer.alloc(1_000)))
    large!.output.push(new SharedBytes(Buffer.alloc(6_000)))
    medium!.output.push(new SharedBytes(Buffer.alloc(3_000)))
    budget.settle()
    expect(shed).toEqual(['large SLOW_CONSUMER'])
    expect(budget.queuedBytes).toBe(4_000 + 2 * (QueueCosts.CHUNK + QueueCosts.HANDED))
    // Bytes that another member still queues free nothing: cutting goes on until the total fits.
    const everywhere = new SharedBytes(Buffer.alloc(9_000))
    small!.output.push(everywhere)
    medium!.output.push(everywhere)
    budget.settle()
    expect(shed).toEqual(['large SLOW_CONSUMER', 'medium SLOW_CONSUMER', 'small SLOW_CONSUMER'])
    expect(budget.queuedBytes).toBe(0)
  })

  it('of members holding as much but for an envelope (256 bytes, and a thousandth), cuts the one that joined first', () => {
    const budget = new MemoryBudget({ maxTotalBufferedBytes: 1_500_000, maxTotalPendingBytes: 1e9 })
    const shed: string[] = []
    const [older, newer] = ['older', 'newer'].map((name) => member(budget, shed, name))
    // The same snapshot in envelopes a few bytes apart: the newer one is not the slower consumer.
    older!.output.push(new SharedBytes(Buffer.alloc(1_000_000)))
    newer!.output.push(new SharedBytes(Buffer.alloc(1_000_040)))
    budget.settle()
    expect(shed).toEqual(['older SLOW_CONSUMER'])
    // Further apart, the larger goes first, whenever it joined.
    const apart = new MemoryBudget({ maxTotalBufferedBytes: 5_000, maxTotalPendingBytes: 1e9 })
    const [first, second] = ['first', 'second'].map((name) => member(apart, shed, name))
    first!.output.push(new SharedBytes(Buffer.alloc(3_000)))
    second!.output.push(new SharedBytes(Buffer.alloc(3_300)))
    apart.settle()
    expect(shed).toEqual(['older SLOW_CONSUMER', 'second SLOW_CONSUMER'])
  })

  it('cuts the members with the largest unfinished frames until the total fits', () => {
    const budget = new MemoryBudget({ maxTotalBufferedBytes: 1e9, maxTotalPendingBytes: 500 })
    const shed: string[] = []
    member(budget, shed, 'small', 100)
    member(budget, shed, 'large', 300)
    member(budget, shed, 'medium', 200)
    budget.changePending(600)
    expect(shed).toEqual(['large FRAME_TOO_LARGE'])
    expect(budget.pendingBytes).toBe(300)
  })
})

describe('the memory budget over the server', () => {
  it('cuts the replica with the most queued first when all output passes maxTotalBufferedBytes; the others keep going', async () => {
    const maxTotalBufferedBytes = 40 * 1024
    await using t = await startTestServer({ maxTotalBufferedBytes })
    const { peer: slowest } = await t.greet({ clientId: 'slowest', replica: true })
    const { peer: slow } = await t.greet({ clientId: 'slow', replica: true })
    const { peer: reader } = await t.greet({ clientId: 'reader', replica: true })
    const { peer: writer } = await t.greet({ clientId: 'writer' })
    slowest.pause()
    let id = 0
    // Each change carries a 1 KiB string: shared by all replicas, counted once, plus the writes.
    const change = () => call(writer, ++id, 'append', 'x'.repeat(1024))
    for (let i = 0; i < 10; i++) await change()
    slow.pause()
    while (t.server.connectionCount === 4 && id < 200) expect((await change()).error).toBeUndefined()
    expect(t.server.connectionCount).toBe(3)
    // What it was sent still arrives when it reads, then the reason.
    slowest.resume()
    await slowest.closed
    const reason = fatal(slowest.messages.at(-1))
    expect(reason.code).toBe(ErrorCode.SLOW_CONSUMER)
    expect(reason.message).toContain('option maxTotalBufferedBytes')
    expect(slow.isClosed).toBe(false)
    slow.resume()
    await slow.waitFor((m) => m.type === ServerMessageType.StateChanged && m.data.version === id)
    await reader.waitFor((m) => m.type === ServerMessageType.StateChanged && m.data.version === id)
    expect(reader.messages.filter((m) => m.type === ServerMessageType.StateChanged)).toHaveLength(id)
  })

  it('counts a big answer that is never read, and cuts its connection once the budget needs the room', async () => {
    await using t = await startTestServer({ maxTotalBufferedBytes: 15_000 })
    const { peer: writer } = await t.greet({ clientId: 'writer' })
    for (let i = 1; i <= 4; i++) await call(writer, i, 'append', 'y'.repeat(5_000))
    const { peer: reader } = await t.greet({ clientId: 'reader', replica: true })
    const { peer: hoarder } = await t.greet({ clientId: 'hoarder' })
    hoarder.pause()
    for (let id = 1; id <= 3; id++) hoarder.send({ type: ClientMessageType.StateGet, data: { id } })
    // Once another connection's call is answered, the three are too (the transport delivers in
    // order): 60 kB queued, sharing one encoded state that the cache holds anyway, within budget.
    await call(writer, 5, 'peek')
    expect(t.server.connectionCount).toBe(3)
    // The version moves: the old snapshot now lives only for the hoarder, which is cut for it.
    expect((await call(writer, 6, 'increment', 1)).error).toBeUndefined()
    expect(t.server.connectionCount).toBe(2)
    hoarder.resume()
    await hoarder.closed
    expect(fatal(hoarder.messages.at(-1)).code).toBe(ErrorCode.SLOW_CONSUMER)
    await reader.waitFor((m) => m.type === ServerMessageType.StateChanged && m.data.version === 5)
  })

  it('lets a replica take a snapshot larger than maxBufferedBytes, then judges it by what queued besides', async () => {
    await using t = await startTestServer({ maxBufferedBytes: 1_000 })
    const { peer: writer } = await t.greet({ clientId: 'writer' })
    await call(writer, 1, 'append', 'z'.repeat(20_000))
    const replica = await t.connect()
    replica.pause()
    replica.send({ type: ClientMessageType.Hello, data: { id: 0, protocol: 1, clientId: 'big', replica: true } })
    await vi.waitFor(() => expect(replica.server.bufferedBytes).toBeGreaterThan(20_000))
    for (let id = 2; id <= 4; id++) await call(writer, id, 'increment', 1)
    expect(t.server.connectionCount).toBe(2)
    replica.resume()
    await replica.waitFor((m) => m.type === ServerMessageType.StateChanged && m.data.version === 4)
  })

  it('cuts the connection with the largest unfinished frame when all of them pass maxTotalPendingBytes', async () => {
    await using t = await startTestServer({ maxTotalPendingBytes: 1_000 })
    const { peer: small } = await t.greet({ clientId: 'small' })
    const { peer: large } = await t.greet({ clientId: 'large' })
    const { peer: last } = await t.greet({ clientId: 'last' })
    const start = (id: number, bytes: number) =>
      `{"type":"action/call","data":{"id":${id},"action":"append","input":"${'p'.repeat(bytes)}`
    small.write(start(1, 200))
    large.write(start(1, 500))
    await vi.waitFor(() => expect(large.server.bufferedBytes).toBe(0))
    expect(t.server.connectionCount).toBe(3)
    // 200 + 500 + 400 passes 1,000: the largest goes, whoever sent last.
    last.write(start(1, 400))
    await large.closed
    const reason = fatal(large.messages.at(-1))
    expect(reason).toMatchObject({ code: ErrorCode.FRAME_TOO_LARGE })
    expect(reason.message).toContain('option maxTotalPendingBytes')
    small.write(`"}}${FRAME_DELIMITER}`)
    expect((await small.response(1)).result).toEqual({ value: 1, version: 1 })
    last.write(`"}}${FRAME_DELIMITER}`)
    expect((await last.response(1)).result).toEqual({ value: 2, version: 2 })
  })
})
