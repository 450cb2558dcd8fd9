// The data folder's file formats, read and written again from outside the server: what a damaged
// disk or a hand that knows the format (and so recomputes every checksum) can make of them.
import { crc32 } from 'node:zlib'
import fc from 'fast-check'

const MAGIC_BYTES = 8
const HEADER_BYTES = 12

/** One record of a journal segment: its payload as written. */
export interface SegmentRecord {
  payload: Buffer
}

/** Splits a well-formed segment into its magic and its records. */
export function parseSegment(bytes: Buffer): { magic: Buffer; records: SegmentRecord[] } {
  const records: SegmentRecord[] = []
  let offset = MAGIC_BYTES
  while (offset + HEADER_BYTES <= bytes.length) {
    const length = bytes.readUInt32BE(offset)
    records.push({ payload: bytes.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + length) })
    offset += HEADER_BYTES + length
  }
  return { magic: bytes.subarray(0, MAGIC_BYTES), records }
}

/** Frames `payload` as the journal does, with both checksums right, and `length` declared if given. */
export function frame(payload: Buffer, length = payload.length): Buffer {
  const header = Buffer.alloc(HEADER_BYTES)
  header.writeUInt32BE(length >>> 0, 0)
  header.writeUInt32BE(crc32(header.subarray(0, 4)), 4)
  header.writeUInt32BE(crc32(payload), 8)
  return Buffer.concat([header, payload])
}

export function buildSegment(magic: Buffer, records: readonly SegmentRecord[]): Buffer {
  return Buffer.concat([magic, ...records.map((record) => frame(record.payload))])
}

/** The first byte of a packed change, and the bytes of its fixed fields (see the server's change-record.ts). */
const PACKED = 1
const PACKED_FIXED = 29
const ABSENT = 0xffffffff

/** The parts of a packed change: its numbers, and its JSON parts as text (`undefined`: absent). */
export interface PackedParts {
  v: number
  n: number
  i: string
  r: string | undefined
  m: string | undefined
  p: string
}

/** Whether `payload` is a change, packed or (as the first format wrote it, and any segment may hold) JSON. */
export const isChange = (payload: Buffer): boolean => payload[0] === PACKED || payload.includes('"t":"change"')

/** The parts of the packed change `payload`, as written. */
export function unpackChange(payload: Buffer): PackedParts {
  const lengths = [17, 21, 25].map((at) => payload.readUInt32BE(at))
  const parts: (string | undefined)[] = []
  let at = PACKED_FIXED
  for (const length of lengths) {
    parts.push(length === ABSENT ? undefined : payload.toString('utf8', at, at + length))
    at += length === ABSENT ? 0 : length
  }
  return {
    v: payload.readDoubleBE(1),
    n: payload.readDoubleBE(9),
    i: parts[0]!,
    r: parts[1],
    m: parts[2],
    p: payload.toString('utf8', at),
  }
}

/** A packed change of `parts`; `lengths` replace the lengths it declares, where given. */
export function packChange(parts: PackedParts, lengths: (number | undefined)[] = []): Buffer {
  const texts = [parts.i, parts.r, parts.m].map((text) => (text === undefined ? undefined : Buffer.from(text)))
  const fixed = Buffer.alloc(PACKED_FIXED)
  fixed[0] = PACKED
  fixed.writeDoubleBE(parts.v, 1)
  fixed.writeDoubleBE(parts.n, 9)
  for (const [k, text] of texts.entries()) fixed.writeUInt32BE((lengths[k] ?? text?.length ?? ABSENT) >>> 0, 17 + 4 * k)
  return Buffer.concat([fixed, ...texts.filter((text) => text !== undefined), Buffer.from(parts.p)])
}

/** A change record as JSON, as the first format wrote it (and as any segment may hold it): packed ones unpacked. */
export function changeJson(payload: Buffer): Record<string, unknown> {
  if (payload[0] !== PACKED) return JSON.parse(payload.toString('utf8'))
  const { v, n, i, r, m, p } = unpackChange(payload)
  return {
    t: 'change',
    v,
    i: JSON.parse(i),
    n,
    ...(r === undefined ? {} : { r: JSON.parse(r) }),
    ...(m === undefined ? {} : { m: JSON.parse(m) }),
    p: JSON.parse(p),
  }
}

/** Splits a snapshot file into its header line's fields and its body. */
export function parseSnapshot(bytes: Buffer): { magic: string; body: Buffer } {
  const newline = bytes.indexOf(10)
  return { magic: bytes.subarray(0, newline).toString('latin1').split(' ')[0]!, body: bytes.subarray(newline + 1) }
}

/** A snapshot file of `body`, with its checksum and size right. */
export function buildSnapshot(magic: string, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${magic} ${crc32(body).toString(16).padStart(8, '0')} ${body.length}\n`), body])
}

/** Values that break readers that trust a field's type or range. */
export const oddValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom<unknown>(
    null,
    true,
    -1,
    0,
    1.5,
    2 ** 31,
    2 ** 32,
    Number.MAX_SAFE_INTEGER,
    2 ** 53 + 2,
    1e308,
    '',
    'x',
    '1',
    [],
    {},
    [null],
    { t: 'change' },
    { op: 'add', path: null, value: 1 },
    { op: 'replace', path: ['__proto__', 'polluted'], value: true },
    { op: 'add', path: ['list', 1e9], value: 'x' },
    { op: 'replace', path: ['list', 'length'], value: 1e9 },
    { op: 'replace', path: ['list', 'length'], value: -1 },
    { op: 'remove', path: [] },
  ),
  fc.jsonValue({ maxDepth: 2 }),
)

/**
 * Paths into the fuzz store's state, prototypes' names among them; an array's `length` is left to
 * {@link lengthPatch}, a finding of its own.
 */
const statePath = fc.oneof(
  fc.constantFrom<(string | number)[]>(
    [],
    ['counter'],
    ['list'],
    ['list', 0],
    ['list', '-'],
    ['list', 1_000_000],
    ['items'],
    ['items', 'k0'],
    ['items', 'k0', 's0'],
    ['items', '__proto__'],
    ['items', '__proto__', 'polluted'],
    ['__proto__', 'polluted'],
    ['constructor', 'prototype', 'polluted'],
  ),
  fc.array(fc.oneof(fc.string({ maxLength: 4 }), fc.nat({ max: 4 })), { maxLength: 3 }),
)

/** Patches a hostile or damaged store could hold: any op, at the state's own paths or anywhere, with odd values. */
export const storedPatch: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({ op: fc.constantFrom('add', 'replace', 'remove'), path: statePath, value: oddValue }),
  fc.record({ op: fc.constantFrom('add', 'replace', 'remove', 'move', ''), path: statePath }),
  oddValue,
)

/** A patch that sets the list's length: shrinks it, or grows it with holes up to any size. */
export const lengthPatch: fc.Arbitrary<unknown> = fc.record({
  op: fc.constant('replace'),
  path: fc.constant(['list', 'length']),
  value: fc.oneof(fc.nat({ max: 40 }), fc.constantFrom(-1, 1.5, 2 ** 20, 2 ** 31, 2 ** 32 - 1, 2 ** 32)),
})

/** A change to one node of a JSON value: replaced by an odd value, or removed. */
export interface JsonEdit {
  at: number
  remove: boolean
  value: unknown
}

export const jsonEdit: fc.Arbitrary<JsonEdit> = fc.record({ at: fc.nat(), remove: fc.boolean(), value: oddValue })

/** Applies `edits` to a copy of `value`, each to the node numbered `at` (modulo the count) in a walk of it. */
export function editJson(value: unknown, edits: readonly JsonEdit[]): unknown {
  let root = structuredClone(value)
  for (const edit of edits) {
    const nodes: { parent: Record<string, unknown> | unknown[] | undefined; key: string | number }[] = [
      { parent: undefined, key: '' },
    ]
    const walk = (node: unknown) => {
      if (typeof node !== 'object' || node === null) return
      for (const [key, child] of Object.entries(node)) {
        nodes.push({ parent: node as Record<string, unknown>, key: Array.isArray(node) ? Number(key) : key })
        walk(child)
      }
    }
    walk(root)
    const { parent, key } = nodes[edit.at % nodes.length]!
    if (parent === undefined) root = structuredClone(edit.value)
    else if (edit.remove && Array.isArray(parent)) parent.splice(key as number, 1)
    else if (edit.remove) delete (parent as Record<string, unknown>)[key]
    else
      Object.defineProperty(parent, key, {
        value: structuredClone(edit.value),
        writable: true,
        enumerable: true,
        configurable: true,
      })
  }
  return root
}
