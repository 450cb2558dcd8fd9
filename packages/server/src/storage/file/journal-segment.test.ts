import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { journalPath } from './data-folder.js'
import { frameRecord, readSegment } from './journal-format.js'
import { JournalSegment } from './journal-segment.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ipc-state-journal-segment-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

const instance = (i: number) => frameRecord(JSON.stringify({ t: 'instance', i: `instance-${i}`, s: i }))

describe('JournalSegment', () => {
  it('appends the next batches while a flush runs, flushes them together with one more, and keeps them in order', async () => {
    const segment = await JournalSegment.start(dir, { seq: 1, version: 0, epoch: 'e', storeVersion: 1, fsync: 'always' })
    segment.appendNow(instance(1))
    const first = segment.flush()
    // Appended while the first flush runs, which began before them: the next flush covers both.
    segment.appendNow(instance(2))
    const second = segment.flush()
    segment.appendNow(instance(3))
    const third = segment.flush()
    expect(second).not.toBe(first)
    expect(third).toBe(second)
    await Promise.all([first, second, third])
    // With no flush under way, the next batch starts one of its own at once.
    segment.appendNow(instance(4))
    const fourth = segment.flush()
    expect(fourth).not.toBe(second)
    await fourth
    await segment.close()
    const path = journalPath(dir, 1)
    const read = readSegment(path, await readFile(path))
    expect(read.records.flatMap((record) => (record.t === 'instance' ? [record.i] : []))).toEqual([
      'instance-1',
      'instance-2',
      'instance-3',
      'instance-4',
    ])
  })
})
