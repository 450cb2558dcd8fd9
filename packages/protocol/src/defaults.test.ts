import { describe, it, expect } from 'vitest'
import { Defaults, numberOption } from './defaults.js'
import { thrown } from '../test/test-helpers.js'

describe('Defaults', () => {
  it('holds the documented limits', () => {
    expect(Defaults).toMatchObject({
      MAX_FRAME_BYTES: 16 * 1024 * 1024,
      CLIENT_MAX_FRAME_BYTES: 256 * 1024 * 1024,
      MAX_CONNECTIONS: 1024,
      MAX_IN_FLIGHT: 1024,
      MAX_BUFFERED_BYTES: 64 * 1024 * 1024,
      TIMEOUT_MS: 10_000,
    })
  })
})

describe('numberOption', () => {
  it('returns the fallback for undefined and the value when it fits', () => {
    expect(numberOption('n', undefined, { fallback: 5, min: 1 })).toBe(5)
    expect(numberOption('n', 1, { fallback: 5, min: 1 })).toBe(1)
    expect(numberOption('n', 0.5, { fallback: 5, min: 0.1, integer: false })).toBe(0.5)
    expect(numberOption('n', Number.POSITIVE_INFINITY, { fallback: 5, min: 0, infinity: true })).toBe(Number.POSITIVE_INFINITY)
  })

  it.each([
    ['below the minimum', 0, { fallback: 5, min: 1 }, 'n must be an integer of at least 1, got 0'],
    ['a fraction', 1.5, { fallback: 5, min: 1 }, 'n must be an integer of at least 1, got 1.5'],
    ['NaN', Number.NaN, { fallback: 5, min: 1, integer: false }, 'n must be a number of at least 1, got NaN'],
    [
      'Infinity where no limit is not allowed',
      Number.POSITIVE_INFINITY,
      { fallback: 5, min: 1 },
      'n must be an integer of at least 1, got Infinity',
    ],
    ['a string', '3', { fallback: 5, min: 0, infinity: true }, 'n must be an integer of at least 0 or Infinity, got 3'],
  ])('throws a TypeError naming the option for %s', (_label, value, rule, message) => {
    const error = thrown(() => numberOption('n', value, rule))
    expect(error).toBeInstanceOf(TypeError)
    expect((error as Error).message).toBe(message)
  })
})
