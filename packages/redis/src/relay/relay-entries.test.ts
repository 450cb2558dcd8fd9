import type { RelayedCall, RelayedReply } from '@ipc-state/server'
import { describe, expect, it } from 'vitest'
import { encodeCalls, encodeReplies, readCalls, readReplies } from './relay-entries.js'

const MAX_BYTES = 64
const frame = '{"type":"action/call","data":{"id":1,"action":"increment","input":1}}'
const call = (more: Partial<RelayedCall> = {}): RelayedCall => ({
  from: 'server-a',
  instanceId: 'instance',
  since: 3,
  clientId: 'client',
  frame: '{"id":1}',
  ...more,
})
const reply = (more: Partial<RelayedReply> = {}): RelayedReply => ({
  instanceId: 'instance',
  id: 7,
  responseJson: '{"id":7,"result":{"version":2}}',
  ...more,
})

/** The fields of one call entry with field `at` (counted from the entry's start) set to `value`. */
function callWith(at: number, value: string): string[] {
  const fields = encodeCalls('server-a', [call()])
  fields[at] = value
  return fields
}

/** The fields of one reply entry with field `at` set to `value`. */
function replyWith(at: number, value: string): string[] {
  const fields = encodeReplies([reply()])
  fields[at] = value
  return fields
}

describe('relayed calls in the calls stream', () => {
  it('come back as the server relayed them, each with the server the entry came from', () => {
    const calls = [
      call(),
      call({ instanceId: '__proto__', clientId: 'constructor', since: 0, frame }),
      call({ instanceId: 'é'.repeat(10), since: 999_999_999_999_999, frame: '"ü"' }),
    ]
    expect(readCalls(encodeCalls('server-a', calls), 1_000)).toEqual(calls)
    // A call another server passed on keeps that server's id as the entry's.
    expect(readCalls(encodeCalls('server-b', [call()]), MAX_BYTES)).toEqual([call({ from: 'server-b' })])
  })

  it('is left out whole, with a reason, when its fields are not a server’s', () => {
    const valid = encodeCalls('server-a', [call()])
    const refused: [string, string[]][] = [
      ['no fields', []],
      ['the server alone', ['f', 'server-a']],
      ['a field short', valid.slice(0, -1)],
      ['a field more', [...valid, 'x']],
      ['a call and a half', [...valid, 'i', 'instance', 's', '1', 'c', 'client']],
      ['no server field', callWith(0, 'g')],
      ['an empty server', callWith(1, '')],
      ['a server name too long', callWith(1, 's'.repeat(1_025))],
      ['an unknown instance field', callWith(2, 'x')],
      ['an unknown since field', callWith(4, 'since')],
      ['an unknown client field', callWith(6, 'C')],
      ['an unknown frame field', callWith(8, 'frame')],
      ['an empty instance', callWith(3, '')],
      ['an instance too long', callWith(3, 'i'.repeat(1_025))],
      ['an empty client', callWith(7, '')],
      ['a client too long', callWith(7, 'c'.repeat(1_025))],
      ['an empty since', callWith(5, '')],
      ['a negative since', callWith(5, '-1')],
      ['a since with a leading zero', callWith(5, '01')],
      ['a fractional since', callWith(5, '1.5')],
      ['a since in exponent form', callWith(5, '1e3')],
      ['a hexadecimal since', callWith(5, '0x10')],
      ['a since with spaces', callWith(5, ' 1')],
      ['a since past the safe integers', callWith(5, '9007199254740993')],
      ['a huge since', callWith(5, '9'.repeat(400))],
      ['Infinity as since', callWith(5, 'Infinity')],
      ['an empty frame', callWith(9, '')],
      ['a frame over maxBytes', callWith(9, 'x'.repeat(MAX_BYTES + 1))],
      // Counted in UTF-8 bytes: 33 characters of two bytes each.
      ['a frame over maxBytes in UTF-8 bytes', callWith(9, 'é'.repeat(MAX_BYTES / 2 + 1))],
      ['a second call with an unknown field', [...valid, 'i', 'instance', 's', '1', 'x', 'client', 'm', frame]],
      ['fields and values swapped', ['server-a', 'f', 'instance', 'i', '3', 's', 'client', 'c', frame, 'm']],
    ]
    for (const [what, fields] of refused) {
      let outcome: RelayedCall[] | string | undefined
      expect(() => {
        outcome = readCalls(fields, MAX_BYTES)
      }, what).not.toThrow()
      expect(typeof outcome, `${what}: ${JSON.stringify(outcome)}`).toBe('string')
      expect(outcome, what).not.toBe('')
    }
  })

  it('takes a frame of exactly maxBytes UTF-8 bytes, and many calls in one entry', () => {
    const full = call({ frame: 'é'.repeat(MAX_BYTES / 2) })
    expect(readCalls(encodeCalls('server-a', [full]), MAX_BYTES)).toEqual([full])
    const many = Array.from({ length: 10_000 }, (_, id) => call({ frame: `{"id":${id}}` }))
    expect(readCalls(encodeCalls('server-a', many), MAX_BYTES)).toEqual(many)
  })

  it('is refused, not thrown on, with a huge number of fields or fields that are not a call', () => {
    const huge = Array.from({ length: 200_002 }, (_, i) => (i % 2 === 0 ? 'x' : 'y'))
    expect(typeof readCalls(huge, MAX_BYTES)).toBe('string')
    const sparse = new Array<string>(10)
    expect(typeof readCalls(sparse, MAX_BYTES)).toBe('string')
  })
})

describe('the writer’s replies in a replies stream', () => {
  it('come back as the writer wrote them', () => {
    const replies = [
      reply(),
      reply({ instanceId: '__proto__', id: 0, responseJson: '{"id":0,"error":{"code":"BAD_ARGUMENTS","message":"no"}}' }),
      reply({ instanceId: 'é', id: 999_999_999_999_999, responseJson: '"ü"' }),
    ]
    expect(readReplies(encodeReplies(replies), 1_000)).toEqual(replies)
  })

  it('is left out whole, with a reason, when its fields are not a writer’s', () => {
    const valid = encodeReplies([reply()])
    const refused: [string, string[]][] = [
      ['no fields', []],
      ['a field short', valid.slice(0, -1)],
      ['a field more', [...valid, 'x']],
      ['the wake entry', ['w', '']],
      ['an unknown instance field', replyWith(0, 'x')],
      ['an unknown id field', replyWith(2, 'id')],
      ['an unknown response field', replyWith(4, 'R')],
      ['an empty instance', replyWith(1, '')],
      ['an instance too long', replyWith(1, 'i'.repeat(1_025))],
      ['an empty id', replyWith(3, '')],
      ['a negative id', replyWith(3, '-7')],
      ['an id with a leading zero', replyWith(3, '07')],
      ['a fractional id', replyWith(3, '7.0')],
      ['an id past the safe integers', replyWith(3, '9007199254740993')],
      ['a huge id', replyWith(3, '9'.repeat(400))],
      ['an empty response', replyWith(5, '')],
      ['a response over maxBytes', replyWith(5, 'x'.repeat(MAX_BYTES + 1))],
      ['a response over maxBytes in UTF-8 bytes', replyWith(5, 'é'.repeat(MAX_BYTES / 2 + 1))],
      ['a second reply with an unknown field', [...valid, 'i', 'instance', 'x', '8', 'r', '{}']],
    ]
    for (const [what, fields] of refused) {
      let outcome: RelayedReply[] | string | undefined
      expect(() => {
        outcome = readReplies(fields, MAX_BYTES)
      }, what).not.toThrow()
      expect(typeof outcome, `${what}: ${JSON.stringify(outcome)}`).toBe('string')
      expect(outcome, what).not.toBe('')
    }
  })

  it('takes a response of exactly maxBytes UTF-8 bytes', () => {
    const full = reply({ responseJson: 'é'.repeat(MAX_BYTES / 2) })
    expect(readReplies(encodeReplies([full]), MAX_BYTES)).toEqual([full])
  })
})
