import { describe, expect, it } from 'vitest'
import { BINARY_HEADER_BYTES } from './binary-frame.js'
import { BINARY_MIN_BYTES, decodeBinaryBody, encodeBinaryFrame, jsonSize, packEnvelope, packValue } from './json-pack.js'

const pad = 'x'.repeat(BINARY_MIN_BYTES)
const viaJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value))
const viaBinary = (value: unknown): unknown => {
  const frame = encodeBinaryFrame(value)
  if (frame === undefined) throw new Error('not encoded as binary')
  return decodeBinaryBody(frame.subarray(BINARY_HEADER_BYTES))
}

describe('encodeBinaryFrame', () => {
  it('gives back exactly what JSON gives for JSON values', () => {
    const values: unknown[] = [
      { pad, nested: { a: [1, -1, 0.5, 1e300, -2.5e-300, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 32, 255, 256, 65536] } },
      { pad, text: 'çok güzel € 𝄞 \u0000 \f', empty: '', list: [], obj: {}, t: true, f: false, n: null },
      { pad, items: Array.from({ length: 100 }, (_, i) => ({ id: i, text: `item ${i}`, at: 1_700_000_000_000 + i })) },
      { pad, shapes: [{ a: 1 }, { b: 2 }, { a: 3 }, { a: 1, b: 2 }, { b: 2, a: 1 }] },
      [pad, pad, { 'key with spaces': 1, constructor: 2, toString: 3, 0: 'zero' }],
    ]
    for (const value of values) {
      const back = viaBinary(value)
      expect(back).toEqual(viaJson(value))
      expect(JSON.stringify(back)).toBe(JSON.stringify(value))
    }
  })

  it('sends -0 as 0, as JSON does', () => {
    expect(Object.is((viaBinary({ pad, zero: -0 }) as { zero: number }).zero, 0)).toBe(true)
  })

  it('keeps objects without a prototype as plain objects', () => {
    const bare = Object.assign(Object.create(null) as object, { pad, a: 1 })
    expect(viaBinary(bare)).toEqual({ pad, a: 1 })
  })

  it('leaves small values to JSON', () => {
    expect(encodeBinaryFrame({ type: 'action/call', data: { id: 1, action: 'increment' } })).toBeUndefined()
  })

  it('leaves to JSON every value MessagePack would not give back as JSON does', () => {
    const withProto = JSON.parse(`{"pad":"${pad}","__proto__":1}`) as unknown
    const holey = [pad]
    holey[2] = 'x'
    const cyclic: Record<string, unknown> = { pad }
    cyclic.self = cyclic
    class Point {
      x = 1
    }
    const values: unknown[] = [
      { pad, u: undefined },
      [pad, undefined],
      holey,
      { pad, d: new Date(0) },
      { pad, m: new Map([[1, 2]]) },
      { pad, s: new Set([1]) },
      { pad, n: Number.NaN },
      { pad, i: Number.POSITIVE_INFINITY },
      { pad, b: 1n },
      { pad, f: () => 1 },
      { pad, s: Symbol('s') },
      { pad, bytes: new Uint8Array(4) },
      { pad, lone: '\ud800' },
      { pad, j: { toJSON: () => 1 } },
      { pad, p: new Point() },
      withProto,
      cyclic,
    ]
    for (const value of values) expect(encodeBinaryFrame(value), String(Object.keys(value as object))).toBeUndefined()
  })

  it('defines its records inside each message: none leaks into the next', () => {
    const first = encodeBinaryFrame({ pad, list: [{ a: 1 }, { a: 2 }] })!.slice()
    const second = encodeBinaryFrame({ pad, list: [{ b: 1 }, { c: 2 }] })!.slice()
    expect(decodeBinaryBody(second.subarray(BINARY_HEADER_BYTES))).toEqual({ pad, list: [{ b: 1 }, { c: 2 }] })
    expect(decodeBinaryBody(first.subarray(BINARY_HEADER_BYTES))).toEqual({ pad, list: [{ a: 1 }, { a: 2 }] })
  })
})

describe('packValue and packEnvelope', () => {
  it('splice into one valid message: a value packed apart, with its records, inside an envelope without', () => {
    const state = { list: [{ a: 1 }, { a: 2 }], pad }
    const envelope = packEnvelope({ type: 'response', data: { id: 1, result: { version: 2, state: 'MARK' }, after: [{ a: 9 }] } })
    const mark = packEnvelope('MARK')
    const at = envelope.findIndex((_, i) => mark.every((byte, j) => envelope[i + j] === byte))
    const parts = [envelope.subarray(0, at), packValue(state)!, envelope.subarray(at + mark.length)]
    const body = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0))
    let offset = 0
    for (const part of parts) {
      body.set(part, offset)
      offset += part.length
    }
    expect(decodeBinaryBody(body)).toEqual({ type: 'response', data: { id: 1, result: { version: 2, state }, after: [{ a: 9 }] } })
  })

  it('refuses a value JSON would change', () => {
    expect(packValue({ d: new Date(0) })).toBeUndefined()
  })
})

describe('decodeBinaryBody', () => {
  it('refuses values JSON cannot express: undefined, a timestamp, bytes, NaN', () => {
    const bodies = [
      Uint8Array.of(0xd4, 0x00, 0x00),
      Uint8Array.of(0xd6, 0xff, 0, 0, 0, 1),
      Uint8Array.of(0xc4, 0x01, 0x07),
      Uint8Array.of(0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0),
    ]
    for (const body of bodies) expect(() => decodeBinaryBody(body)).toThrow(/not one valid MessagePack value/)
  })

  it('never sets a prototype from a "__proto__" key: the frame is refused', () => {
    // A map of one entry: "__proto__" → { polluted: true }.
    const key = [0xa9, ...'__proto__'].map((c) => (typeof c === 'number' ? c : c.charCodeAt(0)))
    const inner = [0x81, 0xa8, ...[...'polluted'].map((c) => c.charCodeAt(0)), 0xc3]
    expect(() => decodeBinaryBody(Uint8Array.from([0x81, ...key, ...inner]))).toThrow(/"__proto__"/)
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined()
  })

  it('throws on hostile lengths inside the body without allocating them', () => {
    // A string and an array that each claim 4 GiB in a body of a few bytes.
    expect(() => decodeBinaryBody(Uint8Array.of(0xdb, 0xff, 0xff, 0xff, 0xff, 0x61))).toThrow(/not one valid/)
    expect(() => decodeBinaryBody(Uint8Array.of(0xdd, 0xff, 0xff, 0xff, 0xff, 0xc0))).toThrow(/not one valid/)
  })

  it('measures JSON values and refuses the rest', () => {
    expect(jsonSize({ a: [1, 'bc', null, true] })).toBeGreaterThan(0)
    expect(jsonSize(undefined)).toBe(-1)
  })
})
