/** A strict MessagePack reader for what `encodeBinaryFrame` writes: JSON's values and msgpackr's records, nothing else. */
import { IpcStateError } from '../errors.js'
import { tooManyContainers } from './frame-cost.js'
import { RECORD_DEFINITION, RECORD_FIRST, RECORD_IDS, countContainers } from './message-pack-count.js'
import { decodeText } from './message-pack-text.js'

/**
 * How deeply a binary frame may nest. The encoder leaves anything deeper to JSON (see `jsonSize`),
 * so no frame it writes comes near; the bound keeps a hostile one off the stack's edge.
 */
export const MAX_READ_DEPTH = 256

/** Arrays up to this length get all their slots at once. */
const PREALLOCATE = 4096

// The reader's state, for one call of readMessagePack at a time: it never calls out while reading.
let src: Uint8Array = new Uint8Array(0)
let view: DataView = new DataView(src.buffer)
let pos = 0
let end = 0
/** Objects and arrays allowed in this frame, and still allowed. */
let maxContainersNow = 0
let containersLeft = 0
/** The keys of each record id defined so far in this frame. */
let records: (string[] | undefined)[] = []

/** The frame's bytes are not a value this reader takes: a malformed frame. */
class Malformed extends Error {}

/**
 * Reads one MessagePack value that fills `bytes`, as `encodeBinaryFrame` writes them: nil,
 * booleans, integers of up to 32 bits, 64-bit floats (finite), UTF-8 strings, arrays, maps with
 * string keys and msgpackr's one-byte records, each defined in the frame before its first use. Every
 * other type (extensions, binary, 64-bit integers, 32-bit floats, references) is refused, so one
 * value is never read twice and a frame of N bytes gives at most N values.
 *
 * @param maxContainers objects and arrays (record definitions included) the value may hold: each
 *   costs the reader tens of bytes of heap for a byte or two of frame.
 * @throws IpcStateError `FRAME_TOO_LARGE` past `maxContainers`; `Error` when the bytes are anything
 *   else than one such value, nesting no deeper than {@link MAX_READ_DEPTH}.
 */
export function readMessagePack(bytes: Uint8Array, maxContainers: number): unknown {
  src = bytes
  view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  pos = 0
  end = bytes.length
  maxContainersNow = maxContainers
  containersLeft = maxContainers
  records = []
  try {
    // A frame that could hold more containers than allowed is counted first, without allocating:
    // refusing it then costs a pass over its bytes, not its objects.
    if (end > maxContainers && countContainers(src, view, maxContainers) > maxContainers) throw tooManyContainers(maxContainers)
    const value = read(0)
    if (pos !== end) throw new Malformed(`${end - pos} bytes follow the value`)
    return value
  } catch (error) {
    if (error instanceof IpcStateError) throw error
    const reason = error instanceof Malformed ? error.message : 'its bytes are cut short'
    throw new Error(`A binary frame is not one valid MessagePack value: ${reason}`)
  } finally {
    src = new Uint8Array(0)
    view = new DataView(src.buffer)
    records = []
  }
}

function read(depth: number): unknown {
  if (pos >= end) throw new Malformed('its bytes are cut short')
  const token = src[pos++]!
  if (token < 0x40) return token
  if (token < 0x80) return readRecord(token - RECORD_FIRST, depth)
  if (token < 0x90) return readMap(token - 0x80, depth)
  if (token < 0xa0) return readArray(token - 0x90, depth)
  if (token < 0xc0) return readString(token - 0xa0)
  if (token >= 0xe0) return token - 0x100
  let value: number
  switch (token) {
    case 0xc0:
      return null
    case 0xc2:
      return false
    case 0xc3:
      return true
    case 0xcb:
      value = view.getFloat64(pos)
      pos += 8
      // NaN and the infinities have no JSON: the encoder never writes them.
      if (!Number.isFinite(value)) throw new Malformed('a number is not finite')
      return value
    case 0xcc:
      value = view.getUint8(pos)
      pos += 1
      return value
    case 0xcd:
      value = view.getUint16(pos)
      pos += 2
      return value
    case 0xce:
      value = view.getUint32(pos)
      pos += 4
      return value
    case 0xd0:
      value = view.getInt8(pos)
      pos += 1
      return value
    case 0xd1:
      value = view.getInt16(pos)
      pos += 2
      return value
    case 0xd2:
      value = view.getInt32(pos)
      pos += 4
      return value
    case 0xd4:
      if (view.getUint8(pos) !== RECORD_DEFINITION) break
      return defineRecord(view.getUint8(pos + 1), depth)
    case 0xd9:
      value = view.getUint8(pos)
      pos += 1
      return readString(value)
    case 0xda:
      value = view.getUint16(pos)
      pos += 2
      return readString(value)
    case 0xdb:
      value = view.getUint32(pos)
      pos += 4
      return readString(value)
    case 0xdc:
      value = view.getUint16(pos)
      pos += 2
      return readArray(value, depth)
    case 0xdd:
      value = view.getUint32(pos)
      pos += 4
      return readArray(value, depth)
    case 0xde:
      value = view.getUint16(pos)
      pos += 2
      return readMap(value, depth)
    case 0xdf:
      value = view.getUint32(pos)
      pos += 4
      return readMap(value, depth)
  }
  throw new Malformed(`type 0x${token.toString(16)} is not one a frame may hold`)
}

/** Counts one object or array against the frame's allowance, and its nesting against the bound. */
function enter(depth: number): void {
  if (depth >= MAX_READ_DEPTH) throw new Malformed(`it nests deeper than ${MAX_READ_DEPTH} levels`)
  if (--containersLeft < 0) throw tooManyContainers(maxContainersNow)
}

function readArray(length: number, depth: number): unknown[] {
  enter(depth)
  // Each item takes a byte at least: a length past the bytes left allocates nothing.
  if (length > end - pos) throw new Malformed('an array is longer than the bytes left')
  // A long one grows as its items are read: its length alone must not buy the slots up front (8
  // bytes each), in a frame that may be refused halfway.
  const array = length <= PREALLOCATE ? new Array<unknown>(length) : []
  for (let i = 0; i < length; i++) array[i] = read(depth + 1)
  return array
}

function readMap(length: number, depth: number): Record<string, unknown> {
  enter(depth)
  if (length > end - pos) throw new Malformed('a map is longer than the bytes left')
  const object: Record<string, unknown> = {}
  for (let i = 0; i < length; i++) {
    const key = readKey()
    object[key] = read(depth + 1)
  }
  return object
}

function readKey(): string {
  if (pos >= end) throw new Malformed('its bytes are cut short')
  const token = src[pos++]!
  let key: string
  if (token >= 0xa0 && token < 0xc0) key = readString(token - 0xa0)
  else if (token === 0xd9) {
    const length = view.getUint8(pos)
    pos += 1
    key = readString(length)
  } else if (token === 0xda) {
    const length = view.getUint16(pos)
    pos += 2
    key = readString(length)
  } else if (token === 0xdb) {
    const length = view.getUint32(pos)
    pos += 4
    key = readString(length)
  } else throw new Malformed('a key is not a string')
  // The one key an assignment would not keep as an own property; the encoder never writes it.
  if (key === '__proto__') throw new Malformed('a key is "__proto__"')
  return key
}

/** `0xd4 0x72 id`, then the record's keys as an array of strings, then its first object's values. */
function defineRecord(id: number, depth: number): Record<string, unknown> {
  if (id < RECORD_FIRST || id >= RECORD_FIRST + RECORD_IDS) throw new Malformed(`record id 0x${id.toString(16)} is out of range`)
  pos += 2
  // The keys are one more array to hold: they count as a container too.
  enter(depth)
  if (pos >= end) throw new Malformed('its bytes are cut short')
  const token = src[pos++]!
  let length: number
  if (token >= 0x90 && token < 0xa0) length = token - 0x90
  else if (token === 0xdc) {
    length = view.getUint16(pos)
    pos += 2
  } else if (token === 0xdd) {
    length = view.getUint32(pos)
    pos += 4
  } else throw new Malformed("a record's keys are not an array")
  if (length > end - pos) throw new Malformed("a record's keys are longer than the bytes left")
  const keys = new Array<string>(length)
  for (let i = 0; i < length; i++) keys[i] = readKey()
  records[id - RECORD_FIRST] = keys
  return readRecord(id - RECORD_FIRST, depth)
}

function readRecord(slot: number, depth: number): Record<string, unknown> {
  const keys = records[slot]
  if (keys === undefined) throw new Malformed(`record 0x${(slot + RECORD_FIRST).toString(16)} is used before it is defined`)
  enter(depth)
  const object: Record<string, unknown> = {}
  for (let i = 0; i < keys.length; i++) object[keys[i]!] = read(depth + 1)
  return object
}

function readString(length: number): string {
  const start = pos
  if (start + length > end) throw new Malformed('a string is longer than the bytes left')
  pos = start + length
  const text = decodeText(src, start, length)
  if (text === undefined) throw new Malformed('a string is not UTF-8')
  return text
}
