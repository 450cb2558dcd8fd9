// Binary frames that cost far more to decode than their bytes say, written byte by byte as a
// hostile peer would: each is a whole frame, header and MessagePack body, ready for a socket.
import { BINARY_HEADER_BYTES, writeBinaryHeader } from '@ipc-state/protocol/wire'

/** Bytes to put as they are where a value goes in {@link packJson}. */
export class RawValue {
  constructor(readonly bytes: Buffer) {}
}

/** MessagePack of a JSON value (maps, arrays, strings, integers of 32 bits, booleans, null), with {@link RawValue}s spliced in. */
export function packJson(value: unknown): Buffer {
  const parts: Buffer[] = []
  const write = (v: unknown): void => {
    if (v instanceof RawValue) parts.push(v.bytes)
    else if (v === null) parts.push(Buffer.of(0xc0))
    else if (typeof v === 'boolean') parts.push(Buffer.of(v ? 0xc3 : 0xc2))
    else if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 2 ** 32) {
      const head = Buffer.alloc(5)
      head[0] = 0xce
      head.writeUInt32BE(v, 1)
      parts.push(head)
    } else if (typeof v === 'string') {
      const text = Buffer.from(v, 'utf8')
      const head = Buffer.alloc(5)
      head[0] = 0xdb
      head.writeUInt32BE(text.length, 1)
      parts.push(head, text)
    } else if (Array.isArray(v)) {
      parts.push(length(0xdd, v.length))
      for (const item of v) write(item)
    } else if (typeof v === 'object') {
      const entries = Object.entries(v as object)
      parts.push(length(0xdf, entries.length))
      for (const [key, item] of entries) {
        write(key)
        write(item)
      }
    } else throw new TypeError(`cannot pack ${String(v)}`)
  }
  write(value)
  return Buffer.concat(parts)
}

function length(type: number, count: number): Buffer {
  const head = Buffer.alloc(5)
  head[0] = type
  head.writeUInt32BE(count, 1)
  return head
}

/** msgpackr's structured-clone extensions: an id given to the value that follows, and a pointer to it. */
const withId = (id: number): Buffer => Buffer.from([0xd6, 0x69, ...u32(id)])
const pointer = (id: number): Buffer => Buffer.from([0xd6, 0x70, ...u32(id)])
const u32 = (n: number): number[] => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]
const fixstr = (text: string): Buffer => Buffer.from([0xa0 + text.length, ...Buffer.from(text)])

/**
 * A value whose every level names the level below twice, `levels` deep, in msgpackr's structured
 * clone: each level is sent once, then pointed at. About 18 bytes a level, and 2^levels paths for
 * whoever walks it as a tree.
 */
export function dagValue(levels: number): RawValue {
  let node = Buffer.concat([withId(0), Buffer.of(0x81), fixstr('leaf'), fixstr('x')])
  for (let level = 1; level <= levels; level++) {
    node = Buffer.concat([withId(level), Buffer.of(0x82), fixstr('a'), node, fixstr('b'), pointer(level - 1)])
  }
  return new RawValue(node)
}

/** An array of `count` empty maps: one byte each. */
export function emptyMaps(count: number): RawValue {
  const bytes = Buffer.alloc(5 + count, 0x80)
  bytes[0] = 0xdd
  bytes.writeUInt32BE(count, 1)
  return new RawValue(bytes)
}

/** `body` behind a binary frame's header. */
export function binaryFrame(body: Buffer): Buffer {
  const header = Buffer.alloc(BINARY_HEADER_BYTES)
  writeBinaryHeader(header, 0, body.length)
  return Buffer.concat([header, body])
}

/**
 * `message` as a binary frame of exactly `bodyBytes`, its one {@link RawValue} placeholder
 * `fill` replaced by as many empty maps as fill the body.
 */
export function emptyMapsFrame(message: (fill: RawValue) => unknown, bodyBytes: number): Buffer {
  const without = packJson(message(emptyMaps(0))).length
  return binaryFrame(packJson(message(emptyMaps(bodyBytes - without))))
}
