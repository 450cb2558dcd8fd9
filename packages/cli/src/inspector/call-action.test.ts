import { describe, expect, it } from 'vitest'
import { checkCallRequest } from './call-action.js'

describe('checkCallRequest', () => {
  it('takes an action with or without an input, keeping an input of null', () => {
    expect(checkCallRequest({ action: 'increment' })).toEqual({ ok: true, request: { action: 'increment' } })
    expect(checkCallRequest({ action: 'increment', input: 2 })).toEqual({ ok: true, request: { action: 'increment', input: 2 } })
    expect(checkCallRequest({ action: 'set', input: null })).toEqual({ ok: true, request: { action: 'set', input: null } })
  })

  it('refuses anything but an object with a named action', () => {
    for (const value of [null, [], 'increment', 1, {}, { action: '' }, { action: 3 }, { action: 'x'.repeat(257) }]) {
      expect(checkCallRequest(value).ok, JSON.stringify(value)).toBe(false)
    }
  })
})
