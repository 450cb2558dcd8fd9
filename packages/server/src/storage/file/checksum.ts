// CRC-32 (as zlib computes it) of a range of a buffer, without a copy or a call into C++ for the short ones.
import { crc32 } from 'node:zlib'

// zlib's crc32 is fastest on long runs of bytes, but each call costs as much as checksumming a few
// hundred bytes here, and needs a view of the range. A journal's records are mostly short, and
// every record has two checksums, so short ranges are checksummed in JavaScript, 8 bytes per step
// ("slicing by 8": eight tables, one per byte position).

/** Past this many bytes, zlib's crc32 is faster than the loop below. */
const NATIVE_FROM = 1024

/** The eight tables, 256 entries each: table 0 is the classic byte-at-a-time table. */
const TABLES = new Int32Array(256 * 8)
for (let byte = 0; byte < 256; byte++) {
  let crc = byte
  for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1
  TABLES[byte] = crc
}
for (let byte = 0; byte < 256; byte++) {
  for (let table = 1; table < 8; table++) {
    const previous = TABLES[(table - 1) * 256 + byte]!
    TABLES[table * 256 + byte] = (previous >>> 8) ^ TABLES[previous & 0xff]!
  }
}

/** The CRC-32 of `bytes` from `start` to `end` (not included): the value `zlib.crc32` gives for that range. */
export function crc32Of(bytes: Uint8Array, start: number, end: number): number {
  if (end - start >= NATIVE_FROM) return crc32(bytes.subarray(start, end))
  const t = TABLES
  let crc = -1
  let at = start
  for (; at + 8 <= end; at += 8) {
    const low = crc ^ (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24))
    crc =
      t[1792 + (low & 0xff)]! ^
      t[1536 + ((low >>> 8) & 0xff)]! ^
      t[1280 + ((low >>> 16) & 0xff)]! ^
      t[1024 + (low >>> 24)]! ^
      t[768 + bytes[at + 4]!]! ^
      t[512 + bytes[at + 5]!]! ^
      t[256 + bytes[at + 6]!]! ^
      t[bytes[at + 7]!]!
  }
  for (; at < end; at++) crc = t[(crc ^ bytes[at]!) & 0xff]! ^ (crc >>> 8)
  return (crc ^ -1) >>> 0
}
