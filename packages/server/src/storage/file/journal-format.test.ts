import { crc32 } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { ErrorCode, IpcStateError } from '@ipc-state/protocol'
import { JOURNAL_MAGIC, PackedChange, entryPayload, frameEntry, frameRecord, readSegment } from './journal-format.js'

const header = { t: 'segment', seq: 1, version: 0, epoch: 'e', storeVersion: 1, boot: 'b', fsync: 'always' }
const payloads = [
  JSON.stringify(header),
  entryPayload({ kind: 'instance', instanceId: 'i', since: 0 }),
  ...[1, 2, 3, 4, 5].map((version) =>
    entryPayload({
      kind: 'change',
      version,
      instanceId: 'i',
      id: version,
      valueJson: String(version),
      patchesJson: `[{"op":"replace","path":["n"],"value":${version}}]`,
    }),
  ),
]
const records = payloads.map(frameRecord)
const journal = Buffer.concat([JOURNAL_MAGIC, ...records])
/** Where each record ends. */
const ends = records.map((_, i) => JOURNAL_MAGIC.length + records.slice(0, i + 1).reduce((sum, r) => sum + r.length, 0))

/** The fields of a packed change, its result among them. */
function fieldsOf(record: unknown) {
  const { kind, version, instanceId, id, patchesJson, valueJson, presenceJson } = record as PackedChange
  return { kind, version, instanceId, id, patchesJson, valueJson, presenceJson }
}

function damage(bytes: Buffer): IpcStateError {
  try {
    readSegment('journal-000000000001.log', bytes)
  } catch (error) {
    if (error instanceof IpcStateError) return error
    throw error
  }
  throw new Error('the damage was not found')
}

describe('journal records', () => {
  it('reads back every record of a whole segment, with no torn end', () => {
    const read = readSegment('j', journal)
    expect(read.records).toHaveLength(payloads.length)
    expect(read.records[0]).toEqual(header)
    expect(read.records.at(-1)).toBeInstanceOf(PackedChange)
    expect(fieldsOf(read.records.at(-1)!)).toEqual({
      kind: 'change',
      version: 5,
      instanceId: 'i',
      id: 5,
      patchesJson: '[{"op":"replace","path":["n"],"value":5}]',
      valueJson: '5',
      presenceJson: undefined,
    })
    expect(read).toMatchObject({ end: journal.length, torn: undefined })
  })

  it('packs a change with every part as given, a mark and odd text among them, and frames it as frameRecord would', () => {
    const entry = {
      kind: 'change' as const,
      version: 2 ** 40,
      instanceId: 'é\ud800"',
      id: 0,
      valueJson: undefined,
      presenceJson: '{"left":"x"}',
      patchesJson: '[{"op":"add","path":["log",0],"value":"\u{1F600}"}]',
    }
    const framed = frameEntry(entry)
    expect(framed).toEqual(frameRecord(entryPayload(entry)))
    const read = readSegment('j', Buffer.concat([JOURNAL_MAGIC, frameRecord(JSON.stringify(header)), framed]))
    expect(fieldsOf(read.records[1]!)).toEqual(entry)
  })

  it('reads the instance of each packed change, however the instances of changes in a row alternate', () => {
    const ids = ['a1', 'a2', 'a1', 'a1', '', 'longer-instance-id-0001', 'longer-instance-id-0002', 'longer-instance-id-0002', 'a2']
    const changes = ids.map((instanceId, k) =>
      frameEntry({ kind: 'change', version: k + 1, instanceId, id: k, valueJson: undefined, patchesJson: '[]' }),
    )
    const read = readSegment('j', Buffer.concat([JOURNAL_MAGIC, frameRecord(JSON.stringify(header)), ...changes]))
    expect(read.records.slice(1).map((record) => (record as PackedChange).instanceId)).toEqual(ids)
  })

  it('reads a segment of the first format, whose changes are JSON, as it was written', () => {
    const change = '{"t":"change","v":1,"i":"i","n":1,"r":{"a":[1]},"p":[{"op":"replace","path":["n"],"value":1}]}'
    const bytes = Buffer.concat([Buffer.from('ipcsj001'), ...[JSON.stringify(header), change].map(frameRecord)])
    expect(readSegment('j', bytes).records).toEqual([header, JSON.parse(change)])
  })

  it('refuses a packed change in a segment of the first format, and one whose parts do not fit, as damage at its record', () => {
    const packed = entryPayload({ kind: 'change', version: 1, instanceId: 'i', id: 1, valueJson: '1', patchesJson: '[]' }) as Buffer
    const segment = (magic: string, payload: Uint8Array) =>
      Buffer.concat([Buffer.from(magic), frameRecord(JSON.stringify(header)), frameRecord(payload)])
    const at = JOURNAL_MAGIC.length + frameRecord(JSON.stringify(header)).length
    expect(damage(segment('ipcsj001', packed))).toMatchObject({
      message: expect.stringContaining('not JSON'),
      data: { offset: at },
    })
    const cases: [(bytes: Buffer) => void, string][] = [
      [(bytes) => bytes.writeUInt32BE(1000, 21), 'reach past its end'],
      [(bytes) => bytes.writeUInt32BE(0xfffffffe, 17), 'reach past its end'],
      [(bytes) => bytes.write('x', 29), 'lacks the instance'],
    ]
    for (const [change, what] of cases) {
      const bytes = Buffer.from(packed)
      change(bytes)
      expect(damage(segment('ipcsj002', bytes))).toMatchObject({ message: expect.stringContaining(what), data: { offset: at } })
    }
    expect(damage(segment('ipcsj002', Buffer.from(packed).subarray(0, 20)))).toMatchObject({
      message: expect.stringContaining('shorter than its fixed fields'),
    })
  })

  it('cut at any byte, keeps exactly the whole records before the cut and reports the rest as torn', () => {
    for (let cut = 0; cut < journal.length; cut++) {
      const read = readSegment('j', journal.subarray(0, cut))
      const whole = ends.filter((end) => end <= cut).length
      expect(read.records, `cut at ${cut}`).toHaveLength(whole)
      expect(read.end).toBe(whole === 0 ? (cut < JOURNAL_MAGIC.length ? 0 : JOURNAL_MAGIC.length) : ends[whole - 1])
      expect(read.torn === undefined, `cut at ${cut}`).toBe(cut === read.end && cut >= JOURNAL_MAGIC.length)
    }
  })

  it('takes a run of zero bytes at the end for a torn record', () => {
    const read = readSegment('j', Buffer.concat([journal, Buffer.alloc(4096)]))
    expect(read).toMatchObject({ end: journal.length, torn: journal.length })
    expect(read.records).toHaveLength(payloads.length)
  })

  it('refuses any flipped byte before the last record as damage, naming the offset of its record', () => {
    for (let at = 0; at < ends.at(-2)!; at++) {
      const bytes = Buffer.from(journal)
      bytes[at]! ^= 0x40
      const error = damage(bytes)
      expect(error.code, `flip at ${at}`).toBe(ErrorCode.STORE_DAMAGED)
      const record = ends.findIndex((end) => end > at)
      const start = record === 0 ? JOURNAL_MAGIC.length : ends[record - 1]!
      expect(error.data, `flip at ${at}`).toEqual({
        file: 'journal-000000000001.log',
        offset: at < JOURNAL_MAGIC.length ? 0 : start,
      })
    }
  })

  it('tells a length that reaches past the end because it was damaged from one cut short', () => {
    const bytes = Buffer.from(journal)
    // The second record's length made huge, its own checksum left as it was.
    bytes.writeUInt32BE(0x7fffffff, ends[0]!)
    expect(damage(bytes).message).toContain('length does not match its checksum')
  })

  /** `journal` with the record at `index` given `length` and a length checksum that holds. */
  function withLength(index: number, length: number): Buffer {
    const bytes = Buffer.from(journal)
    const at = index === 0 ? JOURNAL_MAGIC.length : ends[index - 1]!
    bytes.writeUInt32BE(length, at)
    bytes.writeUInt32BE(crc32(bytes.subarray(at, at + 4)), at + 4)
    return bytes
  }

  it('refuses a length past the end with a sound checksum as damage when whole records follow, so none is cut', () => {
    const error = damage(withLength(3, 100_000))
    expect(error.code).toBe(ErrorCode.STORE_DAMAGED)
    expect(error.data).toEqual({ file: 'journal-000000000001.log', offset: ends[2] })
    expect(error.message).toContain('whole records follow it')
  })

  it('refuses a length no server could write (2 GiB) as damage, even in the last record', () => {
    const error = damage(withLength(payloads.length - 1, 2 ** 31))
    expect(error.data).toEqual({ file: 'journal-000000000001.log', offset: ends.at(-2) })
    expect(error.message).toContain('more than any record can be')
  })

  it('still takes the last record, its length sound and past the end, for a torn one', () => {
    const read = readSegment('j', withLength(payloads.length - 1, 100_000))
    expect(read).toMatchObject({ end: ends.at(-2), torn: ends.at(-2) })
  })
})
