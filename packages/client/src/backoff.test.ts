import { describe, expect, it, vi } from 'vitest'
import { exponentialBackoff } from './backoff.js'

describe('exponentialBackoff', () => {
  it('doubles from the initial wait up to the cap', () => {
    const delay = exponentialBackoff({ initial: 10, max: 100, jitter: 0 })
    expect([0, 1, 2, 3, 4, 50].map(delay)).toEqual([10, 20, 40, 80, 100, 100])
  })

  it('takes up to the jitter share off each wait', () => {
    const random = vi.spyOn(Math, 'random')
    const delay = exponentialBackoff({ initial: 100, max: 1000, jitter: 0.5 })
    random.mockReturnValue(0)
    expect(delay(0)).toBe(100)
    random.mockReturnValue(0.999999)
    expect(delay(0)).toBeCloseTo(50, 3)
    random.mockRestore()
  })

  it('names the option that is wrong', () => {
    expect(() => exponentialBackoff({ initial: -1 })).toThrow(/initial/)
    expect(() => exponentialBackoff({ initial: 10, max: 5 })).toThrow(/max/)
    expect(() => exponentialBackoff({ jitter: 2 })).toThrow(/jitter/)
  })
})
