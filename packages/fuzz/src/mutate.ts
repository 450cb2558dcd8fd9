// Byte mutations of valid inputs: what a bad disk, a hostile peer or a foreign writer makes of them.
import fc from 'fast-check'

/** One change to a byte string. Offsets are taken modulo the length they apply to. */
export type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; byte: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'duplicate'; at: number; length: number }
  | { kind: 'splice'; at: number; from: number; start: number; length: number }
  | { kind: 'u32'; at: number; value: number }
  | { kind: 'truncate'; at: number }

/** Lengths and counts that break readers: zero, one past a boundary, the largest u32s. */
export const hugeU32 = fc.oneof(
  fc.constantFrom(0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff),
  fc.nat({ max: 0xffffffff }),
)

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat({ max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.nat({ max: 255 }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 32 }) }),
  fc.record({ kind: fc.constant('duplicate' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
  fc.record({
    kind: fc.constant('splice' as const),
    at: fc.nat(),
    from: fc.nat(),
    start: fc.nat(),
    length: fc.integer({ min: 1, max: 64 }),
  }),
  fc.record({ kind: fc.constant('u32' as const), at: fc.nat(), value: hugeU32 }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
)

/** Applies `mutations` in order to a copy of `input`; `donors` are what a splice copies from. */
export function applyMutations(input: Uint8Array, mutations: readonly Mutation[], donors: readonly Uint8Array[]): Uint8Array {
  let bytes: Uint8Array = Uint8Array.from(input)
  for (const m of mutations) {
    const at = m.at % (bytes.length + 1)
    switch (m.kind) {
      case 'flip':
        if (at < bytes.length) bytes[at]! ^= 1 << m.bit
        break
      case 'set':
        if (at < bytes.length) bytes[at] = m.byte
        break
      case 'insert':
        bytes = concat(bytes.subarray(0, at), m.bytes, bytes.subarray(at))
        break
      case 'delete':
        bytes = concat(bytes.subarray(0, at), bytes.subarray(at + m.length))
        break
      case 'duplicate':
        bytes = concat(bytes.subarray(0, at + m.length), bytes.subarray(at))
        break
      case 'splice': {
        const donor = donors[m.from % donors.length] ?? input
        const start = m.start % (donor.length + 1)
        bytes = concat(bytes.subarray(0, at), donor.subarray(start, start + m.length), bytes.subarray(at))
        break
      }
      case 'u32': {
        if (bytes.length < 4) break
        const offset = Math.min(at, bytes.length - 4)
        new DataView(bytes.buffer, bytes.byteOffset).setUint32(offset, m.value)
        break
      }
      case 'truncate':
        bytes = bytes.slice(0, at)
        break
    }
  }
  return bytes
}

/** Valid inputs drawn from `seeds`, each changed by one to `max` mutations. */
export function mutated(seeds: fc.Arbitrary<Uint8Array>, donors: readonly Uint8Array[], max = 6): fc.Arbitrary<Uint8Array> {
  return fc
    .tuple(seeds, fc.array(mutation, { minLength: 1, maxLength: max }))
    .map(([input, mutations]) => applyMutations(input, mutations, donors))
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const whole = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0))
  let offset = 0
  for (const part of parts) {
    whole.set(part, offset)
    offset += part.length
  }
  return whole
}
