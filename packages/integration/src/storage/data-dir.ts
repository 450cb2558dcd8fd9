// A server's data folder as the tests see it: a temporary folder, the variables that point the
// server fixture at it, its files, and the journal's framing read back byte by byte.
import { createHash } from 'node:crypto'
import { cp, lstat, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { crc32 } from 'node:zlib'
import type { FixtureEnv } from '../processes/fixture-env.js'

/** A temporary data folder, removed with everything in it on dispose. */
export interface TempDataDir extends AsyncDisposable {
  readonly dir: string
}

/**
 * Makes a temporary data folder, not created by the server then but found empty.
 * @param parent the folder to make it in
 */
export async function tempDataDir(parent = '/tmp'): Promise<TempDataDir> {
  const dir = await mkdtemp(join(parent, 'ipcs-data-'))
  return { dir, [Symbol.asyncDispose]: () => rm(dir, { recursive: true, force: true }) }
}

/** How the server fixture stores its state; each unset part is the library's default. */
export interface StorageSettings {
  fsync?: 'always' | 'interval' | 'off'
  fsyncInterval?: number
  compactBytes?: number
}

/** Test side: the variables that give the server fixture a data folder (see fixtures/servers/server.ts). */
export function storageEnv(dir: string, settings: StorageSettings = {}): FixtureEnv {
  return {
    IPC_STATE_DATA_DIR: dir,
    ...(settings.fsync === undefined ? {} : { IPC_STATE_FSYNC: settings.fsync }),
    ...(settings.fsyncInterval === undefined ? {} : { IPC_STATE_FSYNC_INTERVAL: String(settings.fsyncInterval) }),
    ...(settings.compactBytes === undefined ? {} : { IPC_STATE_COMPACT_BYTES: String(settings.compactBytes) }),
  }
}

/** The file names in `dir`, sorted. */
export async function dataFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort()
}

/** The journal segments in `dir`, oldest first (their 12-digit numbers sort as text). */
export async function journalFiles(dir: string): Promise<string[]> {
  return (await dataFiles(dir)).filter((name) => /^journal-\d{12}\.log$/.test(name))
}

/** The snapshots in `dir`, oldest first. */
export async function snapshotFiles(dir: string): Promise<string[]> {
  return (await dataFiles(dir)).filter((name) => /^snapshot-\d{12}\.json$/.test(name))
}

/**
 * Copies data folder `from` to `to`, all but its lock file and socket: a server may start on the copy while the one
 * that owns `from` still runs, or after it was killed.
 */
export async function copyDataDir(from: string, to: string): Promise<void> {
  await cp(from, to, { recursive: true, filter: (source) => !['store.lock', 'store.sock'].includes(basename(source)) })
}

/** SHA-256 of a file's bytes, to show a file was left untouched; `socket` for the lock socket, which has none. */
export async function fileHash(path: string): Promise<string> {
  if ((await lstat(path)).isSocket()) return 'socket'
  return createHash('sha256')
    .update(await readFile(path))
    .digest('hex')
}

/** The 8 bytes every journal segment starts with; segments of the first format, all JSON, start with `ipcsj001`. */
export const JOURNAL_MAGIC = 'ipcsj002'
/** [u32 BE payload length][u32 BE crc32 of those 4 bytes][u32 BE crc32 of the payload] */
const RECORD_HEADER_BYTES = 12

/** One whole record of a journal segment: where its frame starts and ends, and its payload. */
export interface JournalRecord {
  /** Offset of the record's length field. */
  start: number
  /** Offset just past its payload. */
  end: number
  /** The payload's JSON (a packed change as the JSON the first format wrote); its kind is in `t` ('segment', 'instance', 'change' or 'closed'). */
  payload: { t: string } & Record<string, unknown>
}

/** A journal segment read by its framing, independently of the server's own reader. */
export interface ParsedJournal {
  /** Every whole record whose checksums hold, in order, up to the first that is torn or damaged. */
  records: JournalRecord[]
  /** Where reading stopped: the file's length when every record is whole. */
  validEnd: number
}

/**
 * A packed change's payload (see the server README's "The journal's records": [1][f64 version][f64
 * call id][u32 ×3: bytes of the instance, result and mark, 0xffffffff when absent][those][patches]),
 * as the JSON record the first format wrote.
 */
function unpackedChange(payload: Buffer): JournalRecord['payload'] {
  const lengths = [17, 21, 25].map((at) => payload.readUInt32BE(at))
  const parts: unknown[] = []
  let at = 29
  for (const length of lengths) {
    parts.push(length === 0xffffffff ? undefined : JSON.parse(payload.toString('utf8', at, at + length)))
    at += length === 0xffffffff ? 0 : length
  }
  const [i, r, m] = parts
  const change = { t: 'change', v: payload.readDoubleBE(1), i, n: payload.readDoubleBE(9) }
  return {
    ...change,
    ...(r === undefined ? {} : { r }),
    ...(m === undefined ? {} : { m }),
    p: JSON.parse(payload.toString('utf8', at)),
  }
}

/**
 * Reads `bytes` as a journal segment: the magic, then records framed as [u32 BE length][u32 BE
 * crc32 of the length][u32 BE crc32 of the payload][payload: UTF-8 JSON, or a packed change]. Stops
 * at the first record that is cut short or fails a checksum.
 * @throws Error when the magic is wrong
 */
export function parseJournal(bytes: Buffer): ParsedJournal {
  const magic = bytes.subarray(0, JOURNAL_MAGIC.length).toString('latin1')
  if (magic !== JOURNAL_MAGIC && magic !== 'ipcsj001') throw new Error(`not a journal: starts with ${JSON.stringify(magic)}`)
  const records: JournalRecord[] = []
  let at = JOURNAL_MAGIC.length
  while (at + RECORD_HEADER_BYTES <= bytes.length) {
    const lengthBytes = bytes.subarray(at, at + 4)
    if (crc32(lengthBytes) !== bytes.readUInt32BE(at + 4)) break
    const end = at + RECORD_HEADER_BYTES + lengthBytes.readUInt32BE(0)
    if (end > bytes.length) break
    const payload = bytes.subarray(at + RECORD_HEADER_BYTES, end)
    if (crc32(payload) !== bytes.readUInt32BE(at + 8)) break
    const packed = magic === JOURNAL_MAGIC && payload[0] === 1
    records.push({ start: at, end, payload: packed ? unpackedChange(payload) : JSON.parse(payload.toString('utf8')) })
    at = end
  }
  return { records, validEnd: at }
}

/** The first bytes of every snapshot file. */
export const SNAPSHOT_MAGIC = 'ipcss001'

/** The JSON body of snapshot file `bytes`: {"version","epoch","storeVersion","instances","state"}. */
export function snapshotBody(bytes: Buffer): Record<string, unknown> {
  return JSON.parse(bytes.subarray(bytes.indexOf(10) + 1).toString('utf8'))
}

/**
 * A snapshot file holding `body` as JSON, framed as the server frames one (`ipcss001 <crc32 of the
 * body, 8 hex digits> <body bytes>\n<body>`), so only its content can be refused.
 */
export function snapshotFile(body: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(body))
  return Buffer.concat([Buffer.from(`${SNAPSHOT_MAGIC} ${crc32(json).toString(16).padStart(8, '0')} ${json.length}\n`), json])
}

/** `bytes` with the record at `start` given length `length` and a length checksum that holds. */
export function withRecordLength(bytes: Buffer, start: number, length: number): Buffer {
  const changed = Buffer.from(bytes)
  changed.writeUInt32BE(length, start)
  changed.writeUInt32BE(crc32(changed.subarray(start, start + 4)), start + 4)
  return changed
}
