import { describe, expect, it } from 'vitest'
import { CallRecord } from './call-record.js'

describe('CallRecord', () => {
  it('answers a call once taken, and keeps the answer for a resend', () => {
    const record = new CallRecord<string>({ dedupWindow: 4, maxRememberedClients: 4 })
    record.attach('i', 'connection-1')
    record.take('i', 1)
    expect(record.isUnanswered('i', 1)).toBe(true)
    expect(record.answerTo('i', 1)).toBeUndefined()
    expect(record.answer('i', 1, 'frame-1')).toBe('connection-1')
    expect(record.isUnanswered('i', 1)).toBe(false)
    expect(record.answerTo('i', 1)).toBe('frame-1')
    // Keyed by instance: another instance's call 1 is another call.
    expect(record.answerTo('j', 1)).toBeUndefined()
  })

  it("sends answers to the instance's current connection; an old connection's detach does not undo a newer attach", () => {
    const record = new CallRecord<string>({ dedupWindow: 4, maxRememberedClients: 4 })
    record.attach('i', 'old')
    record.attach('i', 'new')
    record.detach('i', 'old')
    expect(record.answer('i', 1, 'frame')).toBe('new')
    record.detach('i', 'new')
    expect(record.answer('i', 2, 'frame')).toBeUndefined()
    // Answered while no connection was there: still remembered for the resend.
    expect(record.answerTo('i', 2)).toBe('frame')
  })

  it('keeps at most dedupWindow answers per instance, dropping the oldest', () => {
    const record = new CallRecord<string>({ dedupWindow: 2, maxRememberedClients: 4 })
    for (const id of [1, 2, 3]) record.answer('i', id, `frame-${id}`)
    expect([1, 2, 3].map((id) => record.answerTo('i', id))).toEqual([undefined, 'frame-2', 'frame-3'])
  })

  it('keeps at most maxRememberedClients instances, dropping the least recently answered', () => {
    const record = new CallRecord<string>({ dedupWindow: 2, maxRememberedClients: 2 })
    record.answer('a', 1, 'a1')
    record.answer('b', 1, 'b1')
    record.answer('a', 2, 'a2')
    record.answer('c', 1, 'c1')
    expect(record.answerTo('a', 1)).toBe('a1')
    expect(record.answerTo('b', 1)).toBeUndefined()
    expect(record.answerTo('c', 1)).toBe('c1')
  })
})
