// The journal's record of one change, packed: fixed fields in binary, its JSON parts side by side, each read back without parsing.
import type { StorageEntry } from '../storage.js'
import { PatchesReader } from './packed-patches.js'

// A change record's payload (segments of format ipcsj002 on):
//   [u8 1][f64 BE version][f64 BE call id]
//   [u32 BE bytes of the instance][u32 BE bytes of the result][u32 BE bytes of the mark]
//   [instance: a JSON string][result: JSON][mark: JSON][patches: JSON, to the end]
// A result or a mark that is absent has the length ABSENT and no bytes. Reading one back takes
// its parts as the text they are: replay parses the patches anyway, and needs an answer's result
// only as JSON, to send again. The first byte tells it from the JSON records (`{`).

/** The first byte of a packed change's payload. */
export const PACKED_CHANGE = 1
/** The bytes before the instance. */
const FIXED_BYTES = 29
/** The length of a part that is absent. */
const ABSENT = 0xffffffff

type ChangeEntry = Extract<StorageEntry, { kind: 'change' }>

/**
 * A packed change as read back: the log's entry itself, each part read from the bytes when it is
 * read, and checked by whoever reads it. A long journal's changes are all held at once until
 * replay, so it holds only where it is and its instance (shared with the changes around it).
 */
export class PackedChange {
  readonly #reader: ChangeReader
  readonly #at: number
  readonly #end: number

  /** The change whose payload is from `at` to `end` of `reader`'s bytes, its parts checked to fit. */
  constructor(
    reader: ChangeReader,
    readonly instanceId: string,
    at: number,
    end: number,
  ) {
    this.#reader = reader
    this.#at = at
    this.#end = end
  }

  /** Its kind, as a JSON record's `t` says it. */
  get t(): 'change' {
    return 'change'
  }

  get kind(): 'change' {
    return 'change'
  }

  get version(): number {
    return this.#reader.view.getFloat64(this.#at + 1)
  }

  get id(): number {
    return this.#reader.view.getFloat64(this.#at + 9)
  }

  get valueJson(): string | undefined {
    const resultAt = this.#at + FIXED_BYTES + this.#length(17)
    const resultBytes = this.#length(21)
    return resultBytes === ABSENT ? undefined : utf8(this.#reader.bytes, resultAt, resultAt + resultBytes)
  }

  get presenceJson(): string | undefined {
    const markBytes = this.#length(25)
    if (markBytes === ABSENT) return undefined
    const patchesAt = this.#patchesAt()
    return utf8(this.#reader.bytes, patchesAt - markBytes, patchesAt)
  }

  get patchesJson(): string {
    return utf8(this.#reader.bytes, this.#patchesAt(), this.#end)
  }

  /** The bytes of its patches' JSON. */
  get patchesBytes(): number {
    return this.#end - this.#patchesAt()
  }

  /** Its patches, as JSON.parse reads {@link patchesJson}, without making that text where it can. @throws SyntaxError */
  readPatches(): unknown {
    return this.#reader.patches.read(this.#patchesAt(), this.#end)
  }

  /** The length at `field` of the payload: of a part, ABSENT for none. */
  #length(field: number): number {
    return this.#reader.view.getUint32(this.#at + field)
  }

  #patchesAt(): number {
    const result = this.#length(21)
    const mark = this.#length(25)
    return this.#at + FIXED_BYTES + this.#length(17) + (result === ABSENT ? 0 : result) + (mark === ABSENT ? 0 : mark)
  }
}

/** Text of UTF-8 bytes: Buffer's own method where it has one, without `toString`'s look-up of the encoding. */
const utf8: (bytes: Buffer, start: number, end: number) => string =
  typeof (Buffer.prototype as { utf8Slice?: unknown }).utf8Slice === 'function'
    ? (bytes, start, end) => (bytes as Buffer & { utf8Slice(start: number, end: number): string }).utf8Slice(start, end)
    : (bytes, start, end) => bytes.toString('utf8', start, end)

/** Frames `entry` packed, with `headerBytes` left free in front for the record's header. */
export function packChange(entry: ChangeEntry, headerBytes: number): Buffer {
  const instance = JSON.stringify(entry.instanceId)
  const instanceBytes = Buffer.byteLength(instance)
  const resultBytes = entry.valueJson === undefined ? 0 : Buffer.byteLength(entry.valueJson)
  const markBytes = entry.presenceJson === undefined ? 0 : Buffer.byteLength(entry.presenceJson)
  const patchBytes = Buffer.byteLength(entry.patchesJson)
  const at = headerBytes
  const record = Buffer.allocUnsafe(at + FIXED_BYTES + instanceBytes + resultBytes + markBytes + patchBytes)
  record[at] = PACKED_CHANGE
  record.writeDoubleBE(entry.version, at + 1)
  record.writeDoubleBE(entry.id, at + 9)
  record.writeUInt32BE(instanceBytes, at + 17)
  record.writeUInt32BE(entry.valueJson === undefined ? ABSENT : resultBytes, at + 21)
  record.writeUInt32BE(entry.presenceJson === undefined ? ABSENT : markBytes, at + 25)
  let offset = at + FIXED_BYTES
  offset += record.write(instance, offset, 'utf8')
  if (entry.valueJson !== undefined) offset += record.write(entry.valueJson, offset, 'utf8')
  if (entry.presenceJson !== undefined) offset += record.write(entry.presenceJson, offset, 'utf8')
  record.write(entry.patchesJson, offset, 'utf8')
  return record
}

/**
 * Reads packed changes of one buffer. A journal's changes mostly come from a few client instances,
 * one after the other: an instance whose bytes are those of the one before is not decoded again.
 */
export class ChangeReader {
  #instanceAt = 0
  #instanceEnd = 0
  #instance = ''

  readonly patches: PatchesReader
  /** The bytes as a view, big-endian reads of which cost a load. */
  readonly view: DataView

  constructor(readonly bytes: Buffer) {
    this.patches = new PatchesReader(bytes, (start, end) => utf8(bytes, start, end))
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  /** The packed change from `start` to `end`, or why it is not one. */
  read(start: number, end: number): PackedChange | string {
    if (end - start < FIXED_BYTES) return 'a change record is shorter than its fixed fields'
    const view = this.view
    const instanceBytes = view.getUint32(start + 17)
    const resultBytes = view.getUint32(start + 21)
    const markBytes = view.getUint32(start + 25)
    const instanceAt = start + FIXED_BYTES
    const resultAt = instanceAt + instanceBytes
    const markAt = resultAt + (resultBytes === ABSENT ? 0 : resultBytes)
    const patchesAt = markAt + (markBytes === ABSENT ? 0 : markBytes)
    if (patchesAt > end) return 'the parts of a change record reach past its end'
    const instance = this.#instanceOf(instanceAt, resultAt)
    if (instance === undefined) return 'a change lacks the instance or the id of its call'
    return new PackedChange(this, instance, start, end)
  }

  /** The instance id whose JSON is at `start` to `end`, or `undefined` when that is no JSON string. */
  #instanceOf(start: number, end: number): string | undefined {
    const bytes = this.bytes
    const seen = this.#instanceAt
    if (end - start === this.#instanceEnd - seen && end > start) {
      // Four bytes a step, then the rest one by one.
      const view = this.view
      let k = 0
      while (k + 4 <= end - start && view.getUint32(start + k) === view.getUint32(seen + k)) k += 4
      if (k + 4 > end - start) while (k < end - start && bytes[start + k] === bytes[seen + k]) k++
      if (k === end - start) return this.#instance
    }
    let instance: unknown
    try {
      instance = JSON.parse(utf8(bytes, start, end))
    } catch {
      return undefined
    }
    if (typeof instance !== 'string') return undefined
    this.#instanceAt = start
    this.#instanceEnd = end
    this.#instance = instance
    return instance
  }
}
