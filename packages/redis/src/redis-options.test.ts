import { describe, expect, it } from 'vitest'
import { parseRedisStorageOptions, redactUrl, secretsOf } from './redis-options.js'

describe('redactUrl', () => {
  it('hides the password of a URL, an ACL user and a socket path alike, and keeps the rest', () => {
    expect(redactUrl('redis://:hunter2@db.example:6380/2')).toBe('redis://:***@db.example:6380/2')
    expect(redactUrl('rediss://app:hunter2@db.example')).toBe('rediss://app:***@db.example')
    expect(redactUrl('/run/redis.sock?password=hunter2&db=1')).toBe('/run/redis.sock?password=***&db=1')
    expect(redactUrl('redis://db.example:6379')).toBe('redis://db.example:6379')
    expect(redactUrl('/run/redis.sock')).toBe('/run/redis.sock')
  })
})

describe('secretsOf', () => {
  it('finds the password wherever it is given, encoded or not', () => {
    expect(secretsOf('redis://app:p%40ss@host', {})).toEqual(['p%40ss', 'p@ss'])
    expect(secretsOf('/s.sock?password=a+b', { password: 'other' })).toEqual(['a b', 'other'])
  })
})

describe('parseRedisStorageOptions', () => {
  it('fills in the defaults', () => {
    expect(parseRedisStorageOptions({ url: 'redis://localhost' })).toMatchObject({
      key: 'ipc-state',
      snapshotEvery: 1000,
      connectTimeout: 10_000,
      relayCalls: true,
      safeUrl: 'redis://localhost',
    })
  })

  it('refuses a bad option with a TypeError naming it, never showing a password', () => {
    expect(() => parseRedisStorageOptions({ url: '' })).toThrow(/url/)
    expect(() => parseRedisStorageOptions({ url: 'http://:hunter2@host' })).toThrow(/http:\/\/:\*\*\*@host/)
    expect(() => parseRedisStorageOptions({ url: 'http://:hunter2@host' })).not.toThrow(/hunter2/)
    expect(() => parseRedisStorageOptions({ url: 'redis://h', key: '' })).toThrow(/key/)
    expect(() => parseRedisStorageOptions({ url: 'redis://h', snapshotEvery: 0 })).toThrow(/snapshotEvery/)
    expect(() => parseRedisStorageOptions({ url: 'redis://h', relayCalls: 'yes' as never })).toThrow(/relayCalls/)
  })
})
