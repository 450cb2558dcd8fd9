// MessagePack for binary frames: what may go binary, how it is packed, and how a body is read back.
import { Packr, RESERVE_START_SPACE } from '../vendor/msgpackr.js'
import { BINARY_HEADER_BYTES, writeBinaryHeader } from './binary-frame.js'
import { maxFrameContainers } from './frame-cost.js'
import { readMessagePack } from './read-message-pack.js'

/**
 * Values whose strings add up to fewer characters than this go as JSON text even on a binary
 * connection: below it, `JSON.stringify` and `JSON.parse` cost no more than MessagePack does.
 */
export const BINARY_MIN_BYTES = 8 * 1024

/** How deeply {@link encodeBinaryFrame} follows a value before it leaves it to JSON (a cycle, say). */
const MAX_PACK_DEPTH = 256

// Records (keys sent once per shape) make repeated objects smaller and faster to read than maps.
// Each message defines its own records: no structure is shared between messages or connections.
// Frames are read by our own strict reader (see readMessagePack), never by msgpackr's, whose
// extensions (references, dates, typed arrays...) are on whatever its options say.
const packr = new Packr({ useRecords: true })

const objectProto = Object.prototype

/** `String.prototype.isWellFormed`, in Node since 20, in TypeScript's lib since ES2024. */
interface WellFormed {
  isWellFormed(): boolean
}

/**
 * Roughly the bytes `value` takes as JSON, or -1 when MessagePack would not give back exactly what
 * `JSON.parse(JSON.stringify(value))` gives: anything but plain objects, arrays, well-formed
 * strings, finite numbers, booleans and null (an `undefined`, a Date, a Map, NaN, a typed array,
 * an object with `toJSON` or an own `__proto__` key, a hole in an array, a cycle).
 */
export function jsonSize(value: unknown, depth = 0): number {
  switch (typeof value) {
    case 'string':
      // A lone surrogate would not survive UTF-8; JSON escapes it.
      return (value as unknown as WellFormed).isWellFormed() ? value.length + 2 : -1
    case 'number':
      return Number.isFinite(value) ? 8 : -1
    case 'boolean':
      return 5
    case 'object': {
      if (value === null) return 4
      if (depth >= MAX_PACK_DEPTH) return -1
      let size = 2
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const item = jsonSize(value[i], depth + 1)
          if (item < 0) return -1
          size += item + 1
        }
        return size
      }
      const proto = Object.getPrototypeOf(value)
      if (proto !== objectProto && proto !== null) return -1
      // An own `toJSON` is a function, refused below; an own `__proto__` JSON keeps, MessagePack does not.
      for (const key in value) {
        if (key === '__proto__') return -1
        const item = jsonSize((value as Record<string, unknown>)[key], depth + 1)
        if (item < 0) return -1
        size += key.length + item + 4
      }
      return size
    }
    default:
      return -1
  }
}

/**
 * Encodes `message` as a binary frame (header and MessagePack body in one buffer) when it is large
 * enough to gain from it and decodes to exactly what its JSON would; otherwise `undefined`, and the
 * caller sends JSON text.
 */
export function encodeBinaryFrame(message: unknown, minBytes: number = BINARY_MIN_BYTES): Uint8Array | undefined {
  const size = jsonSize(message)
  if (size < minBytes) return undefined
  const frame = packr.pack(message, RESERVE_START_SPACE | BINARY_HEADER_BYTES)
  writeBinaryHeader(frame, 0, frame.length - BINARY_HEADER_BYTES)
  return frame
}

/** Encodes `value` alone as MessagePack, to be spliced into a binary frame (see SnapshotCache). */
export function packValue(value: unknown): Uint8Array | undefined {
  return jsonSize(value) < 0 ? undefined : packr.pack(value)
}

/**
 * Decodes a binary frame's body: what {@link encodeBinaryFrame} writes, and nothing more (see
 * readMessagePack): the value is one JSON would give.
 * @param maxContainers objects and arrays the body may hold (see {@link maxFrameContainers})
 * @throws IpcStateError `FRAME_TOO_LARGE` when the body holds more than `maxContainers`
 * @throws Error when the body is not one such MessagePack value, or has bytes after it: such a
 *   frame is malformed, as bad JSON would be.
 */
export function decodeBinaryBody(body: Uint8Array, maxContainers: number = maxFrameContainers()): unknown {
  return readMessagePack(body, maxContainers)
}

const envelopePackr = new Packr({ useRecords: false })

/**
 * Packs a message's envelope without records, so that a value packed apart with its own records
 * (see {@link packValue}) can be spliced into it. The result is copied: it outlives later packs.
 */
export function packEnvelope(message: unknown): Uint8Array {
  return envelopePackr.pack(message).slice()
}
