import { Packr } from 'msgpackr'
import { describe, expect, it } from 'vitest'
import { countContainers } from './message-pack-count.js'

const count = (bytes: Uint8Array, limit = 1_000) =>
  countContainers(bytes, new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), limit)

describe('countContainers', () => {
  it('counts every object and array, records and their keys included', () => {
    const plain = new Packr({ useRecords: false })
    expect(count(plain.pack({ a: [1, { b: [] }], c: 'text', d: 2.5 }))).toBe(4)
    expect(count(plain.pack([[], [], [[]]]))).toBe(5)
    // Two objects of one shape: a record definition (its keys' array, its first object), then a use.
    const records = new Packr({ useRecords: true })
    expect(count(records.pack([{ x: 1 }, { x: 2 }]))).toBe(1 + 2 + 1)
  })

  it('stops once past the limit', () => {
    const many = new Packr({ useRecords: false }).pack(Array.from({ length: 100 }, () => []))
    expect(count(many, 10)).toBe(11)
  })

  it('stops at a record used before it is defined, which the reader refuses', () => {
    expect(count(new Uint8Array([0x92, 0x40, 0x90]))).toBe(1)
  })
})
