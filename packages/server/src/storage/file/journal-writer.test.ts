import fs from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { syncBuiltinESMExports } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ErrorCode, isIpcStateError } from '@ipc-state/protocol'
import { ContractServer } from '../contract-server.js'
import { fileStorage } from './file-storage.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ipc-state-journal-writer-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

/**
 * Makes the disk look full to writes longer than `bytes` into the data folder, as write(2) does
 * when a long write finds no room; shorter ones still fit. Undone by the function it returns.
 */
function refuseLongWrites(bytes: number): () => void {
  const writeSync = fs.writeSync
  fs.writeSync = ((fd: number, buffer: NodeJS.ArrayBufferView, ...rest: never[]) => {
    const inFolder = fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith(`${dir}/`)
    if (inFolder && buffer.byteLength > bytes) {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' })
    }
    return writeSync(fd, buffer, ...rest)
  }) as typeof fs.writeSync
  syncBuiltinESMExports()
  return () => {
    fs.writeSync = writeSync
    syncBuiltinESMExports()
  }
}

const outcome = (written: Promise<unknown>) =>
  written.then(
    () => 'written',
    (error: unknown) => (isIpcStateError(error) ? error.code : String(error)),
  )

describe('a data folder with several writes under way', () => {
  it('fails a write that found the disk full and every write behind it, leaving none of their bytes, and writes again after', async () => {
    const a = new ContractServer(fileStorage({ dir, fsync: 'always' }))
    await a.open()
    expect(a.storage.writesAtOnce!()).toBeGreaterThan(2)
    const [first, long, behind] = a.changes([
      { instanceId: 'i', id: 1, item: 'fits' },
      { instanceId: 'i', id: 2, item: 'x'.repeat(20_000) },
      { instanceId: 'i', id: 3, item: 'made on top of the long one' },
    ])
    const restore = refuseLongWrites(10_000)
    let outcomes: string[]
    try {
      // As the server calls them: each before the one before it settled.
      outcomes = await Promise.all([first!, long!, behind!].map((change) => outcome(a.storage.write([change]))))
    } finally {
      restore()
    }
    expect(outcomes).toEqual(['written', ErrorCode.PERSIST_FAILED, ErrorCode.PERSIST_FAILED])
    // Until a write works again, the next one comes alone: it may fold the journal to make room.
    expect(a.storage.writesAtOnce!()).toBe(1)
    await a.close()
    const b = new ContractServer(fileStorage({ dir, fsync: 'always' }))
    await b.open()
    expect(b.state.items).toEqual(['fits'])
    expect(await b.write(b.changes([{ instanceId: 'i', id: 4, item: 'after them' }]))).toBeUndefined()
    expect(b.storage.writesAtOnce!()).toBeGreaterThan(2)
    await b.close()
    const c = new ContractServer(fileStorage({ dir, fsync: 'always' }))
    await c.open()
    expect(c.state.items).toEqual(['fits', 'after them'])
    await c.close()
  })
})
