// The journal's format: segment headers and records, each framed with its length and checksums, read back checked.
import { constants } from 'node:buffer'
import { ErrorCode, IpcStateError } from '@ipc-state/protocol'
import type { StorageEntry } from '../storage.js'
import { ChangeReader, PACKED_CHANGE, PackedChange, packChange } from './change-record.js'
import { crc32Of } from './checksum.js'

// The journal's bytes. A segment file starts with MAGIC, then records, each framed as
//   [u32 BE payload length][u32 BE CRC-32 of those 4 length bytes][u32 BE CRC-32 of the payload][payload]
// The length has its own checksum so that a damaged length is told from a record cut short by a
// crash: both make a record reach past the end of the file. A payload is UTF-8 JSON, except a
// change's, which is packed (see change-record.ts) so that a start reads it without parsing it as
// a whole. Segments of the first format (ipcsj001) hold JSON only, and are read as they are.

/** The first bytes of every journal segment: the format's name and version. */
export const JOURNAL_MAGIC = Buffer.from('ipcsj002', 'latin1')
/** The magic of segments written before changes were packed: JSON records only. */
const JSON_JOURNAL_MAGIC = Buffer.from('ipcsj001', 'latin1')
/** The bytes in front of each record's payload. */
export const RECORD_HEADER_BYTES = 12

/** The first record of each segment. */
export interface SegmentHeader {
  t: 'segment'
  /** The segment's number: its file is `journal-<seq>.log`. */
  seq: number
  /** The version the store is at before the segment's first change. */
  version: number
  epoch: string
  storeVersion: number
  /** The kernel's boot id when the segment was written: a restart in the same boot lost nothing written. */
  boot: string
  /** The durability mode the segment was written with. */
  fsync: string
}

/** A record of the journal, as decoded. */
export type JournalRecord =
  | SegmentHeader
  | { t: 'instance'; i: string; s: number }
  /** A change as JSON, as segments of the first format hold them. */
  | { t: 'change'; v: number; i: string; n: number; p: unknown; r?: unknown; m?: unknown }
  | PackedChange
  /** Written last by a server that closed cleanly. */
  | { t: 'closed' }

export { PackedChange }

/** Frames one payload. */
export function frameRecord(payload: string | Uint8Array): Buffer {
  const length = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length
  const record = Buffer.allocUnsafe(RECORD_HEADER_BYTES + length)
  if (typeof payload === 'string') record.write(payload, RECORD_HEADER_BYTES, 'utf8')
  else record.set(payload, RECORD_HEADER_BYTES)
  return sealRecord(record)
}

/** Writes the header of the record in `record`, whose payload follows its first RECORD_HEADER_BYTES. */
function sealRecord(record: Buffer): Buffer {
  record.writeUInt32BE(record.length - RECORD_HEADER_BYTES, 0)
  record.writeUInt32BE(crc32Of(record, 0, 4), 4)
  record.writeUInt32BE(crc32Of(record, RECORD_HEADER_BYTES, record.length), 8)
  return record
}

/**
 * The payload of `entry`: a client record as JSON, a change packed. A change carries its patches
 * and the action's result as the JSON they already are, so nothing is encoded twice.
 */
export function entryPayload(entry: StorageEntry): string | Buffer {
  if (entry.kind === 'instance') return `{"t":"instance","i":${JSON.stringify(entry.instanceId)},"s":${entry.since}}`
  return packChange(entry, 0)
}

/** The framed record of `entry`: `frameRecord(entryPayload(entry))`, with one copy fewer. */
export function frameEntry(entry: StorageEntry): Buffer {
  return entry.kind === 'change' ? sealRecord(packChange(entry, RECORD_HEADER_BYTES)) : frameRecord(entryPayload(entry))
}

/** A segment's records and where its whole records end. */
export interface ReadSegment {
  /** The records, when read without a visitor. */
  records: JournalRecord[]
  /** Where each of `records` starts. */
  offsets: number[]
  /** The offset just past the last whole record. */
  end: number
  /** The offset of a record cut short by a crash at the end of the file, if there is one. */
  torn: number | undefined
}

/** The error for damage at `offset` of `file`; the file is never touched. */
export function damaged(file: string, offset: number, what: string): IpcStateError {
  return new IpcStateError(
    ErrorCode.STORE_DAMAGED,
    `${file} is damaged at byte ${offset}: ${what}. The server did not start and left the file as it is; ` +
      'restore the data folder from a backup, or move the file away to start from what is left',
    { data: { file, offset } },
  )
}

const allZero = (bytes: Buffer): boolean => bytes.every((byte) => byte === 0)

/**
 * The longest payload a server can write: the UTF-8 of the longest string the runtime makes, each
 * character at most 3 bytes (a surrogate pair is 4 bytes for 2). A longer length was never written.
 */
export const MAX_RECORD_BYTES = 3 * constants.MAX_STRING_LENGTH

/** Whether a whole record, both checksums sound, starts anywhere in `bytes` from `from` on. */
function wholeRecordAfter(bytes: Buffer, from: number): boolean {
  for (let at = from; at + RECORD_HEADER_BYTES <= bytes.length; at++) {
    if (crc32Of(bytes, at, at + 4) !== bytes.readUInt32BE(at + 4)) continue
    const end = at + RECORD_HEADER_BYTES + bytes.readUInt32BE(at)
    if (end <= bytes.length && crc32Of(bytes, at + RECORD_HEADER_BYTES, end) === bytes.readUInt32BE(at + 8)) return true
  }
  return false
}

/**
 * Reads the records of segment `file`, into `records` or, given `visit`, one by one to it (a long
 * journal is never held as a million objects at once). A record that reaches past the end of the file with a sound
 * length, or a run of zero bytes at the end (a crash while the file grew), is a torn last record:
 * reported in `torn`, for the caller to cut off. Anything else that does not check out is damage.
 * @throws IpcStateError `STORE_DAMAGED` naming the file and the offset
 */
export function readSegment(file: string, bytes: Buffer, visit?: (record: JournalRecord, offset: number) => void): ReadSegment {
  if (bytes.length < JOURNAL_MAGIC.length) {
    // A crash right after the file was made: nothing in it was ever acknowledged.
    if (JOURNAL_MAGIC.subarray(0, bytes.length).equals(bytes) || allZero(bytes))
      return { records: [], offsets: [], end: 0, torn: 0 }
    throw damaged(file, 0, 'it is not an ipc-state journal')
  }
  const magic = bytes.subarray(0, JOURNAL_MAGIC.length)
  const packed = magic.equals(JOURNAL_MAGIC)
  if (!packed && !magic.equals(JSON_JOURNAL_MAGIC)) {
    throw damaged(file, 0, 'it is not an ipc-state journal of a format this version knows (ipcsj001, ipcsj002)')
  }
  const changes = new ChangeReader(bytes)
  // Read through a view: V8 compiles its reads to a load, where Buffer's own run JavaScript.
  const view = changes.view
  const records: JournalRecord[] = []
  const offsets: number[] = []
  let offset = JOURNAL_MAGIC.length
  while (offset < bytes.length) {
    const rest = bytes.length - offset
    if (rest < RECORD_HEADER_BYTES) return { records, offsets, end: offset, torn: offset }
    const length = view.getUint32(offset)
    if (crc32Of(bytes, offset, offset + 4) !== view.getUint32(offset + 4)) {
      if (allZero(bytes.subarray(offset))) return { records, offsets, end: offset, torn: offset }
      throw damaged(file, offset, 'a record length does not match its checksum')
    }
    const start = offset + RECORD_HEADER_BYTES
    if (start + length > bytes.length) {
      // A record cut short by a crash is the last thing written: nothing whole can follow it, and
      // its length is one a server could write. Otherwise the length is damage, and what follows
      // it must not be cut off as if it were a torn tail.
      if (length > MAX_RECORD_BYTES)
        throw damaged(file, offset, `a record says it is ${length} bytes long, more than any record can be`)
      if (wholeRecordAfter(bytes, start)) {
        throw damaged(
          file,
          offset,
          `a record says it is ${length} bytes long, past the end of the file, and whole records follow it`,
        )
      }
      return { records, offsets, end: offset, torn: offset }
    }
    if (crc32Of(bytes, start, start + length) !== view.getUint32(offset + 8)) {
      // Cut short by a crash only if nothing follows; otherwise a record in the middle went bad.
      if (start + length === bytes.length) return { records, offsets, end: offset, torn: offset }
      throw damaged(file, offset, 'a record does not match its checksum')
    }
    let record: JournalRecord
    if (packed && length > 0 && bytes[start] === PACKED_CHANGE) {
      const change = changes.read(start, start + length)
      if (typeof change === 'string') throw damaged(file, offset, change)
      record = change
    } else {
      record = jsonRecord(file, offset, bytes.toString('utf8', start, start + length))
    }
    if (visit === undefined) {
      records.push(record)
      offsets.push(offset)
    } else {
      visit(record, offset)
    }
    offset = start + length
  }
  return { records, offsets, end: offset, torn: undefined }
}

/** The JSON record `text` at `offset` of `file`. */
function jsonRecord(file: string, offset: number, text: string): JournalRecord {
  let record: JournalRecord
  try {
    record = JSON.parse(text) as JournalRecord
  } catch {
    throw damaged(file, offset, 'a record is not JSON')
  }
  if (typeof record !== 'object' || record === null || typeof record.t !== 'string') {
    throw damaged(file, offset, 'a record is of no kind this version knows')
  }
  return record
}

/** The error calls get when their change could not be written. */
export function persistFailed(file: string, cause: NodeJS.ErrnoException): IpcStateError {
  const what =
    cause.code === 'ENOSPC' || cause.code === 'EDQUOT' ? 'the disk is full: free some space' : 'check the disk and the folder'
  return new IpcStateError(
    ErrorCode.PERSIST_FAILED,
    `The change could not be written to ${file} (${cause.code ?? cause.message}); it was not applied. ${what}, then call again`,
    { cause, data: { file, ...(cause.code === undefined ? {} : { reason: cause.code }) } },
  )
}
