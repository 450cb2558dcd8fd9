import { describe, expect, it } from 'vitest'
import { valueAtPath } from './value-path.js'

describe('valueAtPath', () => {
  const state = { counter: 3, messages: [{ text: 'hi' }] }

  it('walks objects and arrays by a dotted path', () => {
    expect(valueAtPath(state, undefined)).toBe(state)
    expect(valueAtPath(state, '')).toBe(state)
    expect(valueAtPath(state, 'counter')).toBe(3)
    expect(valueAtPath(state, 'messages.0.text')).toBe('hi')
  })

  it('finds nothing where the state holds nothing, inherited properties included', () => {
    expect(valueAtPath(state, 'messages.1.text')).toBeUndefined()
    expect(valueAtPath(state, 'counter.x')).toBeUndefined()
    expect(valueAtPath(state, 'messages.length')).toBe(1)
    expect(valueAtPath(state, 'constructor')).toBeUndefined()
  })
})
