import { Packr } from 'msgpackr'
import { describe, expect, it } from 'vitest'
import { ErrorCode } from '../errors.js'
import { maxFrameContainers } from './frame-cost.js'
import { packValue } from './json-pack.js'
import { MAX_READ_DEPTH, readMessagePack } from './read-message-pack.js'
import { thrown } from '../../test/test-helpers.js'

const LIMIT = 1_000_000
const read = (bytes: Uint8Array, limit = LIMIT): unknown => readMessagePack(bytes, limit)
const malformed = (bytes: Uint8Array): void => {
  expect(() => read(bytes)).toThrow(/not one valid MessagePack value/)
}

/** A value that names the level below it twice, `levels` deep: a DAG of 2^levels paths. */
function dag(levels: number): unknown {
  let node: unknown = { leaf: 'x'.repeat(8) }
  for (let i = 0; i < levels; i++) node = { a: node, b: node }
  return node
}

describe('readMessagePack', () => {
  it('reads what the encoder writes, records included', () => {
    const value = {
      list: Array.from({ length: 200 }, (_, i) => ({ id: i, name: `n${i}`, price: i / 3, on: i % 2 === 0, none: null })),
      shapes: [{ a: 1 }, { b: 2 }, { a: 3 }, {}, []],
      text: 'çok güzel € 𝄞',
      ints: [
        0,
        31,
        32,
        63,
        64,
        127,
        128,
        255,
        256,
        65535,
        65536,
        2 ** 32 - 1,
        -1,
        -32,
        -33,
        -128,
        -129,
        -32768,
        -32769,
        -(2 ** 31),
      ],
      big: [2 ** 32, 2 ** 53 - 1, -(2 ** 53), 1e300, -0.5],
    }
    expect(read(packValue(value)!)).toEqual(JSON.parse(JSON.stringify(value)))
  })

  it('reads records again after their 64 ids are all used and defined anew', () => {
    const value = Array.from({ length: 300 }, (_, i) => ({ [`k${i % 150}`]: i }))
    expect(read(packValue(value)!)).toEqual(value)
  })

  it('refuses structured-clone references: a 2^40-path DAG costs nothing to refuse', () => {
    const bytes = new Packr({ structuredClone: true }).pack(dag(40))
    expect(bytes.length).toBeLessThan(1024)
    malformed(bytes)
  })

  it('refuses every extension and every type the encoder never writes', () => {
    const clone = new Packr({ structuredClone: true, useRecords: false })
    const plain = new Packr({ useRecords: false, mapsAsObjects: false })
    const bodies: Uint8Array[] = [
      clone.pack(new Set([1])),
      clone.pack(new Error('e')),
      clone.pack(/x/),
      clone.pack(new Uint8Array(4)),
      clone.pack(new Float64Array(2)),
      plain.pack(new Date(0)),
      new Packr({ useBigIntExtension: true }).pack(2n ** 70n),
      plain.pack(2n ** 40n),
      plain.pack(undefined),
      plain.pack(new Map([[1, 'integer key']])),
      new Packr({ bundleStrings: true }).pack({ a: 'x'.repeat(200) }),
      new Packr({ useFloat32: 1 }).pack(1.5),
      Uint8Array.of(0xc1),
      Uint8Array.of(0xc4, 1, 7),
      Uint8Array.of(0xc7, 1, 0x33, 0),
      Uint8Array.of(0xd4, 0x69, 0),
      Uint8Array.of(0xd6, 0x70, 0, 0, 0, 0),
      Uint8Array.of(0xcf, 0, 0, 0, 0, 0, 0, 0, 1),
      Uint8Array.of(0xd3, 0, 0, 0, 0, 0, 0, 0, 1),
      Uint8Array.of(0xcb, 0x7f, 0xf0, 0, 0, 0, 0, 0, 0),
      // Two-byte record definitions, and one-byte record ids outside 0x40-0x7f.
      Uint8Array.of(0xd5, 0x72, 0x60, 1, 0x91, 0xa1, 0x61, 1),
      Uint8Array.of(0xd4, 0x72, 0x01, 0x91, 0xa1, 0x61, 1),
      // A record used before it is defined: msgpackr would read it as the integer 0x40.
      Uint8Array.of(0x40),
      // A record whose keys are not strings.
      Uint8Array.of(0xd4, 0x72, 0x40, 0x91, 0x01, 0x02),
      // Bytes that are not UTF-8, short and long; a surrogate encoded on its own.
      Uint8Array.of(0xa2, 0xc3, 0x28),
      Uint8Array.of(0xd9, 40, ...new Array<number>(39).fill(0x61), 0xff),
      Uint8Array.of(0xa3, 0xed, 0xa0, 0x80),
      // Bytes after the value; a value cut short.
      Uint8Array.of(0xc0, 0xc0),
      Uint8Array.of(0x92, 0x01),
      Uint8Array.of(0xcd, 0x01),
      Uint8Array.of(0xd9),
      new Uint8Array(0),
    ]
    for (const body of bodies) {
      expect(() => read(body), `${[...body.subarray(0, 12)].map((b) => b.toString(16))}`).toThrow(/not one valid MessagePack value/)
    }
  })

  it('refuses a "__proto__" key, in a map and in a record', () => {
    const key = [0xa9, ...[...'__proto__'].map((c) => c.charCodeAt(0))]
    malformed(Uint8Array.from([0x81, ...key, 0x80]))
    malformed(Uint8Array.from([0xd4, 0x72, 0x40, 0x91, ...key, 0x80]))
    expect(Object.prototype).not.toHaveProperty('polluted')
  })

  it('refuses lengths past the bytes left before allocating for them', () => {
    malformed(Uint8Array.of(0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0))
    malformed(Uint8Array.of(0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 0x61))
    malformed(Uint8Array.of(0xdb, 0xff, 0xff, 0xff, 0xff, 0x61))
    malformed(Uint8Array.of(0xd4, 0x72, 0x40, 0xdd, 0xff, 0xff, 0xff, 0xff))
  })

  it(`refuses nesting of ${MAX_READ_DEPTH} levels, and reads one less`, () => {
    const nested = (levels: number) => Uint8Array.from([...new Array<number>(levels).fill(0x91), 0xc0])
    expect(read(nested(MAX_READ_DEPTH))).toBeDefined()
    malformed(nested(MAX_READ_DEPTH + 1))
    // Far deeper than the stack would take: refused at the bound, not by a stack overflow.
    malformed(nested(1_000_000))
  })

  it('counts every object and array against the limit, records and their keys included', () => {
    const empties = (count: number) =>
      Uint8Array.from([0xdd, 0, (count >> 16) & 0xff, (count >> 8) & 0xff, count & 0xff, ...new Array<number>(count).fill(0x80)])
    expect(read(empties(99), 100)).toHaveLength(99)
    expect(thrown(() => read(empties(100), 100))).toMatchObject({ code: ErrorCode.FRAME_TOO_LARGE, data: { containers: 100 } })
    // A record's keys, then each object made from it.
    const records = Uint8Array.of(0x93, 0xd4, 0x72, 0x40, 0x90, 0x40, 0x40)
    expect(read(records, 5)).toEqual([{}, {}, {}])
    expect(thrown(() => read(records, 4))).toMatchObject({ code: ErrorCode.FRAME_TOO_LARGE })
  })

  it('counts the same containers before reading as while reading, past strings of every length', () => {
    // The outer array, 60 inner ones, 60 more inside them, and a record's keys and its 3 objects.
    const value = [
      ...Array.from({ length: 60 }, (_, i) => ['é'.repeat(i), i * 1000, [i / 3, null, true]]),
      { a: 1 },
      { a: 2 },
      { a: 3 },
    ]
    const bytes = packValue(value)!
    expect(bytes.length).toBeGreaterThan(125)
    expect(read(bytes, 125)).toEqual(value)
    expect(thrown(() => read(bytes, 124))).toMatchObject({ code: ErrorCode.FRAME_TOO_LARGE })
  })

  it('stops a frame of empty maps at the limit its size gives', () => {
    const count = 4 * 1024 * 1024 - 5
    const body = new Uint8Array(count + 5).fill(0x80)
    body.set([0xdd, (count >>> 24) & 0xff, (count >> 16) & 0xff, (count >> 8) & 0xff, count & 0xff])
    const limit = maxFrameContainers(4 * 1024 * 1024)
    expect(limit).toBe(256 * 1024)
    expect(thrown(() => read(body, limit))).toMatchObject({ code: ErrorCode.FRAME_TOO_LARGE })
  })
})
