import { describe, expect, it } from 'vitest'
import { formatBytes, formatDuration } from './stats.js'

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [4_549, '4.5s'],
    [59_949, '59.9s'],
    [60_000, '1m 0s'],
    [3_723_000, '1h 2m 3s'],
    [90_061_000, '1d 1h 1m 1s'],
  ])('%d ms is %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text)
  })
})

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [512, '512 B'],
    [64 * 1024, '64 KiB'],
    [1.5 * 1024 * 1024, '1.5 MiB'],
    [256 * 1024 * 1024, '256 MiB'],
    [3 * 1024 ** 4, '3072 GiB'],
  ])('%d bytes is %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text)
  })
})
