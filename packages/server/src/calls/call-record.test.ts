import { describe, expect, it } from 'vitest'
import { actionResultJson } from '@ipc-state/protocol/wire'
import { CallRecord, type CallRecordLimits } from './call-record.js'

/** The answer kept for call `id`, which returned `label`. */
const kept = (label: string, id = 0) => ({ id, version: 1, valueJson: JSON.stringify(label) })

/** What the record says of call `id`, answered with `label`: the answer sent again. */
const answered = (id: number, label: string) => ({ kind: 'answered', responseJson: actionResultJson(id, 1, JSON.stringify(label)) })

/** A record on a clock the test moves by hand. */
function createRecord(limits: Partial<CallRecordLimits> = {}) {
  const clock = { now: 0 }
  const record = new CallRecord<string>({ dedupWindow: 4, maxRememberedClients: 4, answerGrace: 1_000, ...limits }, () => clock.now)
  return { record, clock }
}

/** One call of `instanceId`, applied with a change: the answer is kept. */
function applied(record: CallRecord<string>, instanceId: string, id: number): void {
  record.take(instanceId, id)
  record.answer(instanceId, id, kept(`${instanceId}:${id}`, id))
}

/** An instance that says hello on `connection` (hello id 0), makes one call that changes the state, and leaves. */
function visit(record: CallRecord<string>, instanceId: string, call = 1): void {
  record.attach(instanceId, `${instanceId}-connection`, 0)
  applied(record, instanceId, call)
  record.detach(instanceId, `${instanceId}-connection`)
}

describe('CallRecord', () => {
  it('answers a call once taken, and keeps the answer for a resend', () => {
    const { record } = createRecord()
    record.attach('i', 'connection-1', 0)
    expect(record.status('i', 1)).toEqual({ kind: 'new' })
    record.take('i', 1)
    expect(record.status('i', 1)).toEqual({ kind: 'pending' })
    expect(record.answer('i', 1, kept('frame-1', 1))).toBe('connection-1')
    expect(record.status('i', 1)).toEqual(answered(1, 'frame-1'))
    // Keyed by instance: another instance's call 1 is another call.
    record.attach('j', 'connection-2', 0)
    expect(record.status('j', 1)).toEqual({ kind: 'new' })
  })

  it('keeps no answer for a call that changed nothing: a resend may run it again', () => {
    const { record } = createRecord()
    record.attach('i', 'connection', 0)
    record.take('i', 1)
    expect(record.answer('i', 1)).toBe('connection')
    expect(record.status('i', 1)).toEqual({ kind: 'new' })
  })

  it("sends answers to the instance's current connection; an old connection's detach does not undo a newer attach", () => {
    const { record } = createRecord()
    record.attach('i', 'old', 0)
    record.attach('i', 'new', 1)
    record.detach('i', 'old')
    expect(record.answer('i', 2, kept('frame', 2))).toBe('new')
    record.detach('i', 'new')
    expect(record.answer('i', 3, kept('frame-3', 3))).toBeUndefined()
    // Answered while no connection was there: still remembered for the resend.
    expect(record.status('i', 3)).toEqual(answered(3, 'frame-3'))
  })

  it('keeps at most dedupWindow answers per instance; a resend of a dropped one is unknown, never new', () => {
    const { record } = createRecord({ dedupWindow: 2 })
    record.attach('i', 'c', 0)
    for (const id of [1, 2, 3]) applied(record, 'i', id)
    expect([1, 2, 3].map((id) => record.status('i', id))).toEqual([
      { kind: 'unknown', reason: 'window' },
      answered(2, 'i:2'),
      answered(3, 'i:3'),
    ])
    expect(record.status('i', 4)).toEqual({ kind: 'new' })
  })

  it('calls a resend unknown when it was numbered before the hello that made the record', () => {
    const { record } = createRecord()
    // The instance's record was forgotten; it comes back with hello 7 and resends call 5.
    record.attach('i', 'c', 7)
    expect(record.status('i', 5)).toEqual({ kind: 'unknown', reason: 'expired' })
    expect(record.status('i', 8)).toEqual({ kind: 'new' })
    // A later hello of the same record does not move the line.
    record.attach('i', 'c2', 20)
    expect(record.status('i', 9)).toEqual({ kind: 'new' })
  })

  it('never forgets an instance with a connection, however many come by', () => {
    const { record, clock } = createRecord({ maxRememberedClients: 1, dedupWindow: 1, answerGrace: 0 })
    record.attach('live', 'c', 0)
    applied(record, 'live', 1)
    for (let n = 0; n < 100; n++) visit(record, `passer-${n}`)
    clock.now += 1_000_000
    visit(record, 'last')
    expect(record.status('live', 1)).toEqual(answered(1, 'live:1'))
  })

  it('keeps an instance that lost its connection for answerGrace, then forgets the one idle longest first', () => {
    const { record, clock } = createRecord({ maxRememberedClients: 2, answerGrace: 1_000, dedupWindow: 100 })
    visit(record, 'victim')
    // Many more than maxRememberedClients come and go within the grace: the victim stays.
    for (let n = 0; n < 20; n++) visit(record, `short-${n}`)
    expect(record.status('victim', 1)).toEqual(answered(1, 'victim:1'))
    expect(record.size).toBe(21)
    clock.now += 1_000
    // The next one to leave makes room: everyone past the grace goes, down to maxRememberedClients.
    visit(record, 'after')
    expect(record.size).toBe(2)
    expect(record.status('victim', 1)).toEqual({ kind: 'unknown', reason: 'expired' })
    expect(record.status('short-19', 1)).toEqual(answered(1, 'short-19:1'))
  })

  it('takes an instance whose calls come through another server as idle the shortest: it outlasts those that called before', () => {
    const { record, clock } = createRecord({ maxRememberedClients: 2, answerGrace: 1_000, dedupWindow: 100 })
    // Made by another server's hello (learned from the log): no connection here, ever.
    record.learnInstance('remote', 0)
    // Calls relayed here by the server the instance is connected to.
    applied(record, 'remote', 1)
    for (let n = 0; n < 5; n++) visit(record, `local-${n}`)
    clock.now += 1_000
    applied(record, 'remote', 2)
    clock.now += 500
    visit(record, 'after')
    // Past the grace, the idle ones go down to 2, the one idle longest first: not the one that called.
    expect(record.size).toBe(2)
    expect(record.status('remote', 3)).toEqual({ kind: 'new' })
    expect(record.status('remote', 2)).toEqual(answered(2, 'remote:2'))
    expect(record.status('local-4', 1)).toEqual({ kind: 'unknown', reason: 'expired' })
  })

  it('bounds idle instances by entries whatever their grace, the one idle longest first', () => {
    // Room for 2 × (1 + 1) entries: two idle instances with one answer each.
    const { record } = createRecord({ maxRememberedClients: 2, dedupWindow: 1, answerGrace: Number.POSITIVE_INFINITY })
    visit(record, 'a')
    visit(record, 'b')
    expect(record.size).toBe(2)
    visit(record, 'c')
    expect(record.size).toBe(2)
    expect(record.status('a', 1)).toEqual({ kind: 'unknown', reason: 'expired' })
    expect(record.status('b', 1)).toEqual(answered(1, 'b:1'))
    expect(record.status('c', 1)).toEqual(answered(1, 'c:1'))
  })

  it('lets instances whose calls all failed make room first: they never push an answer out', () => {
    const { record } = createRecord({ maxRememberedClients: 1, dedupWindow: 1, answerGrace: 0 })
    visit(record, 'victim')
    for (let n = 0; n < 100; n++) {
      const instanceId = `failing-${n}`
      record.attach(instanceId, 'c', 0)
      record.take(instanceId, 1)
      record.answer(instanceId, 1)
      record.detach(instanceId, 'c')
    }
    expect(record.status('victim', 1)).toEqual(answered(1, 'victim:1'))
    expect(record.size).toBe(1)
    // Another answer does push it out, once past its grace.
    visit(record, 'next')
    expect(record.status('victim', 1)).toEqual({ kind: 'unknown', reason: 'expired' })
  })

  it('moves an idle instance among those that hold answers when a call of it finishes late', () => {
    const { record } = createRecord({ maxRememberedClients: 1, dedupWindow: 1, answerGrace: Number.POSITIVE_INFINITY })
    record.attach('late', 'c', 0)
    record.take('late', 1)
    record.detach('late', 'c')
    record.answer('late', 1, kept('late:1', 1))
    // An instance that holds nothing arrives and leaves: it goes first, not `late`.
    record.attach('empty', 'c', 0)
    record.detach('empty', 'c')
    expect(record.status('late', 1)).toEqual(answered(1, 'late:1'))
    expect(record.size).toBe(1)
  })

  it('moves an instance back out of the idle ones when it reconnects', () => {
    const { record, clock } = createRecord({ maxRememberedClients: 1, answerGrace: 10 })
    visit(record, 'back')
    record.attach('back', 'again', 5)
    clock.now += 100
    for (let n = 0; n < 5; n++) visit(record, `other-${n}`)
    expect(record.status('back', 1)).toEqual(answered(1, 'back:1'))
    // The others left within their grace: the bound on entries (1 × 5) keeps the two newest.
    expect(record.size).toBe(3)
  })

  it('records the answer of a call that ran while its instance was idle, within the bound', () => {
    const { record } = createRecord({ maxRememberedClients: 1, dedupWindow: 1, answerGrace: Number.POSITIVE_INFINITY })
    record.attach('i', 'c', 0)
    record.take('i', 1)
    record.detach('i', 'c')
    expect(record.answer('i', 1, kept('late', 1))).toBeUndefined()
    expect(record.status('i', 1)).toEqual(answered(1, 'late'))
    // Forgotten while its call waited: the answer has nowhere to go, and the resend is unknown.
    record.attach('j', 'c', 0)
    record.take('j', 1)
    record.detach('j', 'c')
    visit(record, 'k')
    visit(record, 'l')
    expect(record.answer('j', 1, kept('lost', 1))).toBeUndefined()
    expect(record.status('j', 1)).toEqual({ kind: 'unknown', reason: 'expired' })
  })
})

describe('CallRecord, learning from other servers', () => {
  it('keeps the instances and answers another server made, within the same bounds, and leaves its own record as it is', () => {
    const { record } = createRecord({ dedupWindow: 2 })
    record.learnInstance('roamer', 3)
    // A call numbered before the hello that made the record elsewhere: it may have run there.
    expect(record.status('roamer', 2)).toEqual({ kind: 'unknown', reason: 'expired' })
    expect(record.status('roamer', 4)).toEqual({ kind: 'new' })
    record.learn('roamer', kept('answer 4', 4))
    expect(record.status('roamer', 4)).toEqual(answered(4, 'answer 4'))
    // A call of it taken here and still queued finds the answer before it runs.
    record.take('roamer', 5)
    record.learn('roamer', kept('answer 5', 5))
    expect(record.status('roamer', 5)).toEqual(answered(5, 'answer 5'))
    record.learn('roamer', kept('answer 6', 6))
    expect(record.status('roamer', 4)).toEqual({ kind: 'unknown', reason: 'window' })
    // An instance already held keeps its own start; an unknown one's answers are not made up.
    record.learnInstance('roamer', 9)
    expect(record.status('roamer', 5)).toEqual(answered(5, 'answer 5'))
    record.learn('stranger', kept('answer', 1))
    expect(record.status('stranger', 1)).toEqual({ kind: 'unknown', reason: 'expired' })
    expect(record.image().map((instance) => instance.instanceId)).toEqual(['roamer'])
  })
})
