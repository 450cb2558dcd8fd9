import { describe, expect, it } from 'vitest'
import { editDistance, nearestName } from './nearest-name.js'

describe('editDistance', () => {
  it('counts insertions, deletions and substitutions, and stops past its limit', () => {
    expect(editDistance('increment', 'increment', 3)).toBe(0)
    expect(editDistance('incremnt', 'increment', 3)).toBe(1)
    expect(editDistance('kitten', 'sitting', 3)).toBe(3)
    expect(editDistance('kitten', 'sitting', 2)).toBe(3)
    expect(editDistance('a', 'abcdef', 2)).toBe(3)
    expect(editDistance('', 'ab', 3)).toBe(2)
  })
})

describe('nearestName', () => {
  const names = ['addMessage', 'increment', 'reset', 'claimJob', 'releaseJob']

  it('finds the name a typo, a slip of case or a missing letter meant', () => {
    expect(nearestName('incremnt', names)).toBe('increment')
    expect(nearestName('Increment', names)).toBe('increment')
    expect(nearestName('addMesage', names)).toBe('addMessage')
    expect(nearestName('claimjobs', names)).toBe('claimJob')
    expect(nearestName('rest', names)).toBe('reset')
  })

  it('suggests nothing for a name far from every one, an empty one or a very long one', () => {
    expect(nearestName('frobnicate', names)).toBeUndefined()
    expect(nearestName('', names)).toBeUndefined()
    expect(nearestName('x', ['y'])).toBe('y')
    expect(nearestName('i'.repeat(65), ['i'.repeat(64)])).toBeUndefined()
  })

  it('keeps the nearest of several, and the first of equally near ones', () => {
    expect(nearestName('reset', ['rest', 'reset2', 'reset'])).toBe('reset')
    expect(nearestName('abcd', ['abce', 'abcf'])).toBe('abce')
  })

  it('stays cheap over many long names', () => {
    const many = Array.from({ length: 20_000 }, (_, i) => `action-${'x'.repeat(48)}-${i}`)
    expect(nearestName(`action-${'x'.repeat(48)}-19999z`, many)).toBe(`action-${'x'.repeat(48)}-19999`)
  })
})
