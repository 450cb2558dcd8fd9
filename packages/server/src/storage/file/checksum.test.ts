import { randomBytes, randomInt } from 'node:crypto'
import { crc32 } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { crc32Of } from './checksum.js'

describe('crc32Of', () => {
  it('gives what zlib gives, for every range of every length around the 8-byte steps and the switch to zlib', () => {
    const bytes = randomBytes(2100)
    for (let length = 0; length <= 2048; length += length < 40 || (length > 1000 && length < 1040) ? 1 : 37) {
      const start = randomInt(bytes.length - length + 1)
      expect(crc32Of(bytes, start, start + length), `${length} bytes at ${start}`).toBe(
        crc32(bytes.subarray(start, start + length)),
      )
    }
  })

  it('gives the known check value, and what zlib gives on a megabyte', () => {
    expect(crc32Of(Buffer.from('123456789'), 0, 9)).toBe(0xcbf43926)
    const bytes = randomBytes(1 << 20)
    expect(crc32Of(bytes, 3, bytes.length - 5)).toBe(crc32(bytes.subarray(3, bytes.length - 5)))
  })
})
