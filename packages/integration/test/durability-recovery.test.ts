// What a server finds in its data folder after a crash: a journal cut anywhere starts with the state
// of its last whole record; damage anywhere else is refused, and the damaged file left as it was.
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { connect } from '@ipc-state/client'
import { applyPatches, type Patch } from '@ipc-state/protocol'
import { createServer, fileStorage } from '@ipc-state/server'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import {
  copyDataDir,
  dataFiles,
  fileHash,
  type JournalRecord,
  journalFiles,
  parseJournal,
  snapshotFiles,
  storageEnv,
  type TempDataDir,
  tempDataDir,
} from '../src/storage/data-dir.js'
import { fixtureAddress } from '../src/processes/fixture-env.js'
import { type TempSocketRoot, tempSocketRoot } from '../src/processes/processes.js'
import { refusedStart } from '../src/processes/refused-start.js'
import { randomInt, seededRandom, testSeed } from '../src/seeded-random.js'
import { startServer } from '../src/processes/server-fixture.js'
import { type TestState, type TestStore, testStore } from '../src/stores/test-store.js'
import { repeats } from '../src/repeats.js'

const CALLS = 40
const CUTS = repeats(1_000)
/** Trials of the random cuts in flight at once. */
const LANES = 4

/** A journal written by a real server process, killed with SIGKILL after its last answer. */
interface Written {
  dir: string
  journal: string
  bytes: Buffer
  records: JournalRecord[]
  /** The state the server held when it was killed. */
  final: TestState
}

let data: TempDataDir
let sockets: TempSocketRoot
let written: Written

beforeAll(async () => {
  data = await tempDataDir()
  sockets = await tempSocketRoot()
  {
    await using server = await startServer({ socketRoot: sockets.socketRoot, env: storageEnv(data.dir, { fsync: 'always' }) })
    await using client = await connect<TestStore>(server.address)
    for (let k = 1; k <= CALLS; k++) {
      if (k % 3 === 0) await client.actions.addMessage(`message ${k}`)
      else await client.actions.increment(k)
    }
    const final = (await server.view()).state
    await server.process.stop('SIGKILL')
    const [journal, ...others] = await journalFiles(data.dir)
    expect(others).toEqual([])
    const bytes = await readFile(join(data.dir, journal!))
    const parsed = parseJournal(bytes)
    // Every answer was flushed before it was sent: the journal ends with a whole record.
    expect(parsed.validEnd).toBe(bytes.length)
    written = { dir: data.dir, journal: journal!, bytes, records: parsed.records, final }
  }
})

afterAll(async () => {
  await data?.[Symbol.asyncDispose]()
  await sockets?.[Symbol.asyncDispose]()
})

/** A copy of the written folder in `dir`, without the dead server's lock, its journal replaced by `journal`. */
async function copyWith(dir: string, journal: Buffer): Promise<void> {
  await copyDataDir(written.dir, dir)
  await writeFile(join(dir, written.journal), journal)
}

/** What a server started in this process on `dir` (at socket `id`) loaded, and the warnings it logged; closed again. */
async function startOn(dir: string, where: string, id = 'cut') {
  const warnings: string[] = []
  const server = await createServer({
    store: testStore,
    ...fixtureAddress({ socketRoot: sockets.socketRoot, id }),
    storage: fileStorage({ dir, fsync: 'off' }),
    logger: { warn: (message) => warnings.push(message) },
  }).catch((error: Error) => {
    throw new Error(`${where}: ${error.message}`)
  })
  const loaded = { version: server.version, state: server.state, epoch: server.epoch, warnings }
  await server.close()
  return loaded
}

describe('recovery from the data folder', () => {
  it(`a journal cut at any of ${CUTS} random offsets starts with the state after its last whole record`, async () => {
    const random = seededRandom(testSeed())
    const { bytes, records } = written
    const [header, ...rest] = records
    expect(header!.payload).toMatchObject({ t: 'segment', version: 0 })
    // The states the journal's changes lead to, by version, from the patches it records.
    const states: TestState[] = [testStore.initialState]
    for (const { payload } of rest) {
      if (payload.t !== 'change') continue
      expect(payload.v).toBe(states.length)
      states.push(applyPatches(states.at(-1)!, payload.p as Patch[]))
    }
    expect(states).toHaveLength(CALLS + 1)
    expect(states.at(-1)).toEqual(written.final)
    const boundaries = new Set(records.map((record) => record.end))

    await using scratch = await tempDataDir()
    // Drawn up front, so the seed gives the same cuts however the trials interleave.
    const cuts = Array.from({ length: CUTS }, () => randomInt(random, 0, bytes.length))
    const trial = async (i: number, lane: number) => {
      const cut = cuts[i]!
      const where = `cut at ${cut} of ${bytes.length}`
      const dir = join(scratch.dir, String(i))
      await copyWith(dir, bytes.subarray(0, cut))
      const kept = records.filter((record) => record.end <= cut)
      const changes = kept.filter((record) => record.payload.t === 'change')
      const version = changes.length === 0 ? 0 : (changes.at(-1)!.payload.v as number)
      const first = await startOn(dir, where, `cut-${lane}`)
      expect([first.version, first.state], where).toEqual([version, states[version]])
      // The store keeps its identity when its first record survived.
      if (kept.length > 0) expect(first.epoch, where).toBe(header!.payload.epoch)
      // A cut inside a record is a torn record, cut off with a warning; a cut between records is not.
      if (cut > header!.start && !boundaries.has(cut)) expect(first.warnings, where).not.toEqual([])
      if (boundaries.has(cut)) expect(first.warnings, where).toEqual([])
      // Cut off for good: the next start finds the same store, and nothing torn.
      const second = await startOn(dir, where, `cut-${lane}`)
      expect(second, `${where}, started again`).toEqual({ ...first, warnings: [] })
      await rm(dir, { recursive: true })
    }
    // A trial mostly waits on the file system: a few lanes, each with its own folders and socket,
    // overlap those waits. The first failure stops every lane, and is the test's.
    let next = 0
    let failure: unknown
    const lane = async (index: number) => {
      try {
        while (failure === undefined && next < CUTS) await trial(next++, index)
      } catch (error) {
        failure ??= error
      }
    }
    await Promise.all(Array.from({ length: LANES }, (_, index) => lane(index)))
    if (failure !== undefined) throw failure
    expect(next).toBe(CUTS)
    // About 30 s on a quiet 2-core machine; several times that while other suites load the cores.
  }, 300_000)

  it('a byte flipped in a record before the last is refused with STORE_DAMAGED naming the file and offset, the file untouched', async () => {
    const random = seededRandom(testSeed())
    const { records, journal } = written
    // A record in the middle, and within it one byte of its length field and one of its payload.
    const record = records[randomInt(random, 1, records.length - 1)]!
    const positions = [
      record.start + randomInt(random, 0, 4),
      record.start + 12 + randomInt(random, 0, record.end - record.start - 12),
    ]
    for (const position of positions) {
      const where = `byte ${position} of the record at ${record.start}`
      await using copy = await tempDataDir()
      const bytes = Buffer.from(written.bytes)
      bytes[position]! ^= 0xff
      await copyWith(copy.dir, bytes)
      const files = await dataFiles(copy.dir)
      const hash = await fileHash(join(copy.dir, journal))

      const { error } = await refusedStart({ address: fixtureAddress(sockets), env: storageEnv(copy.dir) })
      expect(error.code, where).toBe('STORE_DAMAGED')
      expect(error.data, where).toEqual({ file: join(copy.dir, journal), offset: record.start })
      expect(error.message, where).toContain(journal)
      expect(error.message, where).toContain(String(record.start))
      expect(await fileHash(join(copy.dir, journal)), where).toBe(hash)
      expect(await dataFiles(copy.dir), where).toEqual(files)
    }
  })

  it('a snapshot that does not parse is refused with STORE_DAMAGED, and left untouched', async () => {
    await using folder = await tempDataDir()
    {
      await using server = await startServer({ socketRoot: sockets.socketRoot, env: storageEnv(folder.dir, { compactBytes: 512 }) })
      await using client = await connect<TestStore>(server.address)
      for (let k = 0; k < 20; k++) await client.actions.addMessage(`message ${k}`)
      await vi.waitFor(async () => expect(await snapshotFiles(folder.dir)).toHaveLength(1), { timeout: 10_000, interval: 20 })
      await server.process.stop('SIGKILL')
    }
    // The newest, as it is after the kill: compaction may have written another since the wait, and a
    // start reads the newest snapshot only.
    const snapshot = (await snapshotFiles(folder.dir)).at(-1)
    const damages: Record<string, (bytes: Buffer) => Buffer> = {
      'cut in half': (bytes) => bytes.subarray(0, Math.floor(bytes.length / 2)),
      'replaced by the bare state, as a hand edit would': () => Buffer.from(JSON.stringify(testStore.initialState)),
    }
    for (const [damage, apply] of Object.entries(damages)) {
      await using copy = await tempDataDir()
      await copyDataDir(folder.dir, copy.dir)
      const path = join(copy.dir, snapshot!)
      await writeFile(path, apply(await readFile(path)))
      const hash = await fileHash(path)
      const files = await dataFiles(copy.dir)

      const { error } = await refusedStart({ address: fixtureAddress(sockets), env: storageEnv(copy.dir) })
      expect(error.code, `${damage}: ${error.message}`).toBe('STORE_DAMAGED')
      expect(error.data, damage).toMatchObject({ file: path })
      expect(error.message, damage).toContain(snapshot)
      expect(await fileHash(path), damage).toBe(hash)
      expect(await dataFiles(copy.dir), damage).toEqual(files)
    }
  })
})
