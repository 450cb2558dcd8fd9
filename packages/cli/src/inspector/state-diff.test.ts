import { describe, expect, it } from 'vitest'
import { diffStates } from './state-diff.js'

describe('diffStates', () => {
  it('finds nothing between a state and itself, or an equal copy', () => {
    const state = { counter: 1, messages: [{ id: 1, text: 'hi' }] }
    expect(diffStates(state, state)).toEqual({ patches: [], more: 0 })
    expect(diffStates(state, structuredClone(state))).toEqual({ patches: [], more: 0 })
  })

  it('replaces a changed leaf and adds a pushed item, leaving shared parts alone', () => {
    const messages = [{ id: 1, text: 'hi' }]
    const before = { counter: 1, messages }
    const after = { counter: 2, messages: [...messages, { id: 2, text: 'yo' }] }
    expect(diffStates(before, after).patches).toEqual([
      { op: 'replace', path: ['counter'], value: 2 },
      { op: 'add', path: ['messages', 1], value: { id: 2, text: 'yo' } },
    ])
  })

  it('removes keys and trailing items, the last index first', () => {
    expect(diffStates({ a: 1, list: [1, 2, 3] }, { list: [1] }).patches).toEqual([
      { op: 'remove', path: ['a'] },
      { op: 'remove', path: ['list', 2] },
      { op: 'remove', path: ['list', 1] },
    ])
  })

  it('replaces a value whose kind changed, and the whole state', () => {
    expect(diffStates({ a: [1] }, { a: { 0: 1 } }).patches).toEqual([{ op: 'replace', path: ['a'], value: { 0: 1 } }])
    expect(diffStates(1, 'x').patches).toEqual([{ op: 'replace', path: [], value: 'x' }])
  })

  it('lists at most maxPatches and counts the rest', () => {
    const after = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, i]))
    const diff = diffStates({}, after, 3)
    expect(diff.patches).toHaveLength(3)
    expect(diff.more).toBe(7)
  })
})
