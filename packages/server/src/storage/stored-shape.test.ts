import { describe, expect, it } from 'vitest'
import { stateProblem } from './stored-shape.js'

const initial = { counter: 0, messages: [], user: null, settings: { dark: false } }

describe('the shape of a stored state', () => {
  it.each([
    ['the initial state', initial],
    ['other values of the same kinds', { counter: 5, messages: [{ id: 1 }], user: null, settings: {} }],
    ['null where the initial state has a value', { ...initial, settings: null }],
    ['a value where the initial state has null', { ...initial, user: { name: 'a' } }],
    ['keys added or removed by actions', { counter: 1, extra: 'x' }],
  ])('accepts %s', (_label, state) => {
    expect(stateProblem(state, initial)).toBeUndefined()
  })

  it.each([
    ['an array', [], 'an array'],
    ['a number', 3, 'a number'],
    ['null', null, 'a null'],
    ['a counter that is a string', { ...initial, counter: 'x' }, '"counter" is of kind string'],
    ['a list that is an object', { ...initial, messages: {} }, '"messages" is of kind object'],
  ])('refuses %s', (_label, state, problem) => {
    expect(stateProblem(state, initial)).toContain(problem)
  })

  it('never answers from an inherited key', () => {
    const state = JSON.parse('{"__proto__": {"counter": "x"}}')
    expect(stateProblem(state, initial)).toBeUndefined()
    expect(stateProblem({ counter: 1 }, JSON.parse('{"__proto__": 1, "counter": 0}'))).toBeUndefined()
  })
})
