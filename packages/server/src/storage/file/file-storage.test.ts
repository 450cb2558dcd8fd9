import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ErrorCode, IpcStateError, defineStore } from '@ipc-state/protocol'
import { encodeActionResult } from '@ipc-state/protocol/wire'
import { bootId } from './data-folder.js'
import { fileStorage } from './file-storage.js'
import type { FileStorageOptions } from './file-storage-options.js'
import { JOURNAL_MAGIC, frameRecord, readSegment } from './journal-format.js'
import { writeSnapshot } from './snapshot-file.js'
import { createMemoryTransport } from '../../../test/memory-transport.js'
import { parseServerOptions } from '../../server-settings.js'
import { startServer } from '../../server.js'
import { call, sayHello, startTestServer } from '../../../test/test-helpers.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ipc-state-file-storage-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

const start = (options: Partial<FileStorageOptions> = {}) =>
  startTestServer({ storage: fileStorage({ dir, fsync: 'always', ...options }) })

async function rejection(promise: Promise<unknown>): Promise<IpcStateError> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  )
  if (!(error instanceof IpcStateError)) throw new Error(`expected an IpcStateError, got ${String(error)}`)
  return error
}

describe('fileStorage', () => {
  it('starts again at the state, version and epoch it had, and answers a resent call from its record', async () => {
    let epoch: string
    {
      await using t = await start()
      const { peer } = await t.greet({ clientId: 'w', instanceId: 'i1' })
      expect((await call(peer, 1, 'increment', 5)).result).toEqual({ value: 5, version: 1 })
      expect((await call(peer, 2, 'increment', 2)).result).toEqual({ value: 7, version: 2 })
      epoch = t.server.epoch
    }
    await using t = await start()
    expect(t.server.version).toBe(2)
    expect(t.server.state.counter).toBe(7)
    expect(t.server.epoch).toBe(epoch)
    const peer = await t.connect()
    expect((await sayHello(peer, { id: 3, clientId: 'w', instanceId: 'i1' })).result).toMatchObject({ version: 2, epoch })
    // Call 2 sent again after the restart: answered as before, not applied again.
    expect((await call(peer, 2, 'increment', 2)).result).toEqual({ value: 7, version: 2 })
    expect(t.server.state.counter).toBe(7)
  })

  it('opens a folder an earlier version wrote, its answers kept as frames, and answers a resent call from them', async () => {
    // As earlier versions wrote it: a snapshot whose record keeps each answer as the frame that was sent.
    const instances = [{ instanceId: 'i1', since: 0, forgotten: -1, answers: [{ id: 2, frame: encodeActionResult(2, 3, '7') }] }]
    const state = Buffer.from(JSON.stringify({ counter: 7, log: [], value: null }))
    await writeSnapshot(
      join(dir, 'snapshot-000000000001.json'),
      { version: 3, epoch: 'old', storeVersion: 1, instances } as never,
      state,
    )
    await using t = await start()
    expect(t.server.version).toBe(3)
    expect(t.server.epoch).toBe('old')
    const peer = await t.connect()
    await sayHello(peer, { id: 3, clientId: 'w', instanceId: 'i1' })
    expect((await call(peer, 2, 'increment', 2)).result).toEqual({ value: 7, version: 3 })
    expect(t.server.state.counter).toBe(7)
  })

  it('opens a folder of the first journal format, whose changes are JSON, answers a resent call from it, and goes on in the packed one', async () => {
    // Written by a server of the first format: 6 increments of i1, then i2's increment, append and write.
    await cp(join(import.meta.dirname, '../../../test/fixtures/data-folder-ipcsj001'), dir, { recursive: true })
    {
      await using t = await start()
      expect([t.server.version, t.server.epoch]).toEqual([9, 'e9a66742-cf44-4168-8839-07abc5aff9d6'])
      expect(t.server.state).toEqual({ counter: 121, log: ['é \u{1F600} "q"'], value: { nested: ['x', 1, null] } })
      const peer = await t.connect()
      await sayHello(peer, { id: 10, clientId: 'w', instanceId: 'i1' })
      expect((await call(peer, 3, 'increment', 3)).result).toEqual({ value: 6, version: 3 })
      expect((await call(peer, 7, 'increment', 1)).result).toEqual({ value: 122, version: 10 })
    }
    const journals = (await readdir(dir)).filter((name) => name.startsWith('journal-'))
    const newest = join(dir, journals.sort().at(-1)!)
    expect((await readFile(newest)).subarray(0, 8).toString('latin1')).toBe('ipcsj002')
    await using t = await start()
    expect([t.server.version, t.server.state.counter]).toEqual([10, 122])
    const peer = await t.connect()
    await sayHello(peer, { id: 11, clientId: 'v', instanceId: 'i2' })
    expect((await call(peer, 2, 'append', 'again')).result).toEqual({ value: 1, version: 8 })
  })

  it('loads only the answers dedupWindow keeps: an older resend is OUTCOME_UNKNOWN after a restart, a recent one answered', async () => {
    const serve = () => startTestServer({ storage: fileStorage({ dir, fsync: 'always' }), dedupWindow: 4 })
    {
      await using t = await serve()
      const { peer } = await t.greet({ clientId: 'w', instanceId: 'i1' })
      for (let id = 1; id <= 20; id++) await call(peer, id, 'increment', 1)
    }
    await using t = await serve()
    const peer = await t.connect()
    await sayHello(peer, { id: 21, clientId: 'w', instanceId: 'i1' })
    expect((await call(peer, 20, 'increment', 1)).result).toEqual({ value: 20, version: 20 })
    expect((await call(peer, 3, 'increment', 1)).error?.code).toBe(ErrorCode.OUTCOME_UNKNOWN)
    expect(t.server.state.counter).toBe(20)
  })

  it('writes a snapshot and drops the older journal past compactBytes, and starts from it', async () => {
    {
      await using t = await start({ compactBytes: 2_000 })
      const { peer } = await t.greet({ clientId: 'w' })
      for (let id = 1; id <= 60; id++) await call(peer, id, 'increment', 1)
    }
    const files = (await readdir(dir)).sort()
    expect(files.filter((name) => name.startsWith('snapshot-'))).toHaveLength(1)
    expect(files.filter((name) => name.startsWith('journal-')).length).toBeLessThanOrEqual(2)
    await using t = await start()
    expect(t.server.state.counter).toBe(60)
    expect(t.server.version).toBe(60)
  })

  it('folds the short segments many starts leave into a snapshot, so they do not pile up', async () => {
    for (let run = 1; run <= 12; run++) {
      await using t = await start()
      const { peer } = await t.greet({ clientId: `w${run}` })
      expect((await call(peer, 1, 'increment', 1)).result).toEqual({ value: run, version: run })
    }
    const files = await readdir(dir)
    expect(files.filter((name) => name.startsWith('journal-')).length).toBeLessThanOrEqual(8)
    expect(files.filter((name) => name.startsWith('snapshot-'))).toHaveLength(1)
    await using t = await start()
    expect(t.server.state.counter).toBe(12)
  })

  it('serves one server: a second createServer with the same fileStorage is refused with a TypeError', async () => {
    const storage = fileStorage({ dir })
    await using t = await startTestServer({ storage })
    await expect(startTestServer({ storage })).rejects.toThrow(TypeError)
    expect(t.server.version).toBe(0)
  })

  it('refuses a second server on the same folder with STORE_LOCKED, and the first keeps serving', async () => {
    await using first = await start()
    const error = await rejection(start())
    expect(error.code).toBe(ErrorCode.STORE_LOCKED)
    expect(error.message).toContain(dir)
    const { peer } = await first.greet({ clientId: 'w' })
    expect((await call(peer, 1, 'increment', 1)).result).toEqual({ value: 1, version: 1 })
  })

  it('refuses a journal damaged before its last record with STORE_DAMAGED, naming file and offset, and leaves it', async () => {
    {
      await using t = await start()
      const { peer } = await t.greet({ clientId: 'w' })
      for (let id = 1; id <= 5; id++) await call(peer, id, 'increment', 1)
    }
    const journal = join(dir, (await readdir(dir)).find((name) => name.startsWith('journal-'))!)
    const bytes = await readFile(journal)
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff
    await writeFile(journal, bytes)
    const error = await rejection(start())
    expect(error.code).toBe(ErrorCode.STORE_DAMAGED)
    expect(error.data).toMatchObject({ file: journal, offset: expect.any(Number) })
    expect(error.message).toContain(journal)
    expect((await readFile(journal)).equals(bytes)).toBe(true)
  })

  it('cuts off a record torn by a crash at the end of the journal, and starts from the one before', async () => {
    {
      await using t = await start()
      const { peer } = await t.greet({ clientId: 'w' })
      for (let id = 1; id <= 3; id++) await call(peer, id, 'increment', 1)
    }
    const journal = join(dir, (await readdir(dir)).find((name) => name.startsWith('journal-'))!)
    const bytes = await readFile(journal)
    // Drop the closing record and half of the last change.
    const closed = 12 + Buffer.byteLength('{"t":"closed"}')
    await writeFile(journal, bytes.subarray(0, bytes.length - closed - 20))
    await using t = await start()
    expect(t.server.state.counter).toBe(2)
    expect(t.server.version).toBe(2)
  })

  it('drops a newest segment that a crash left with its magic and no header, and starts again from it twice', async () => {
    {
      await using t = await start()
      const { peer } = await t.greet({ clientId: 'w' })
      await call(peer, 1, 'increment', 4)
    }
    const files = await readdir(dir)
    const journal = join(
      dir,
      files
        .filter((name) => name.startsWith('journal-'))
        .sort()
        .at(-1)!,
    )
    const next = journal.replace(/(\d{12})/, (seq) => String(Number(seq) + 1).padStart(12, '0'))
    // A crash right after a new segment got its first 8 bytes.
    await writeFile(next, Buffer.from('ipcsj001', 'latin1'))
    for (let run = 0; run < 2; run++) {
      await using t = await start()
      expect(t.server.state.counter).toBe(4)
    }
  })

  /** Makes the newest journal segment look as a server killed in boot `boot` left it: not closed. */
  async function leaveUnclosed(boot: string): Promise<void> {
    const journal = join(
      dir,
      (await readdir(dir))
        .filter((name) => name.startsWith('journal-'))
        .sort()
        .at(-1)!,
    )
    const bytes = await readFile(journal)
    const { records, offsets, end } = readSegment(journal, bytes)
    // Each record as written (a change is packed), the header with `boot`, the closing mark left out.
    const framed = records.map((record, k) =>
      record.t === 'segment'
        ? frameRecord(JSON.stringify({ ...record, boot }))
        : record.t === 'closed'
          ? Buffer.alloc(0)
          : bytes.subarray(offsets[k], offsets[k + 1] ?? end),
    )
    await writeFile(journal, Buffer.concat([JOURNAL_MAGIC, ...framed]))
  }

  it('keeps the epoch after a crash of the server, and gives a new one when the machine may have lost what it acknowledged', async () => {
    let epoch: string
    {
      await using t = await start({ fsync: 'interval' })
      const { peer } = await t.greet({ clientId: 'w' })
      await call(peer, 1, 'increment', 2)
      epoch = t.server.epoch
    }
    // Killed, the machine still up: what it wrote is in the page cache, and clients keep their epoch.
    await leaveUnclosed(bootId())
    {
      await using t = await start({ fsync: 'interval' })
      expect([t.server.epoch, t.server.state.counter]).toEqual([epoch, 2])
    }
    // Killed, and the machine restarted since (another boot): changes clients saw may be gone.
    await leaveUnclosed('another boot')
    await using t = await start({ fsync: 'interval' })
    expect(t.server.epoch).not.toBe(epoch)
    expect(t.server.state.counter).toBe(2)
  })

  it('migrates a state an older store version wrote, and refuses one a newer version wrote', async () => {
    const v1 = defineStore({
      initialState: { n: 1 },
      actions: {
        bump: (s) => {
          s.n += 1
        },
      },
    })
    const v2 = defineStore({
      initialState: { count: 0 },
      version: 2,
      actions: {
        bump: (s) => {
          s.count += 1
        },
      },
      migrate: (state, from) => ({ count: from === 1 ? (state as { n: number }).n : 0 }),
    })
    const serve = async (store: typeof v1 | typeof v2) =>
      startServer(
        parseServerOptions({ store: store as typeof v1, id: 'unit', storage: fileStorage({ dir }) }),
        createMemoryTransport(),
      )
    {
      const transport = createMemoryTransport()
      await using server = await startServer(
        parseServerOptions({ store: v1, id: 'unit', storage: fileStorage({ dir }) }),
        transport,
      )
      const peer = await transport.connect()
      await sayHello(peer, { clientId: 'w' })
      expect((await call(peer, 1, 'bump')).result).toEqual({ version: 1 })
      expect(server.state).toEqual({ n: 2 })
    }
    {
      await using server = await serve(v2)
      expect(server.state).toEqual({ count: 2 })
      // The migrated state is a version of its own, so a replica that held version 1 resyncs.
      expect(server.version).toBe(2)
    }
    const error = await rejection(serve(v1))
    expect(error.code).toBe(ErrorCode.STORE_TOO_NEW)
  })
})
