// A data folder under attack: planted links and temporary files, an unsafe parent, a squatted lock,
// a crafted record length and snapshots of the wrong shape. Each is refused with STORE_DAMAGED (or
// STORE_LOCKED for the folder itself) naming what and where, and nothing outside the folder is touched.
import { execFile, spawn } from 'node:child_process'
import { chmod, lstat, mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { connect } from '@ipc-state/client'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import {
  copyDataDir,
  dataFiles,
  fileHash,
  journalFiles,
  parseJournal,
  snapshotBody,
  snapshotFile,
  snapshotFiles,
  storageEnv,
  type TempDataDir,
  tempDataDir,
  withRecordLength,
} from '../src/storage/data-dir.js'
import { fixtureAddress } from '../src/processes/fixture-env.js'
import { cannotRunAsNobody, NOBODY } from '../src/processes/other-user.js'
import { type TempSocketRoot, tempSocketRoot } from '../src/processes/processes.js'
import { refusedStart } from '../src/processes/refused-start.js'
import { startServer } from '../src/processes/server-fixture.js'
import type { TestStore } from '../src/stores/test-store.js'

let sockets: TempSocketRoot
/** A folder a real server wrote and was killed on: a snapshot, then a journal of whole records. */
let written: TempDataDir

beforeAll(async () => {
  sockets = await tempSocketRoot()
  written = await tempDataDir()
  {
    await using server = await startServer({
      socketRoot: sockets.socketRoot,
      env: storageEnv(written.dir, { fsync: 'always', compactBytes: 1024 }),
    })
    await using client = await connect<TestStore>(server.address)
    for (let k = 0; k < 12; k++) await client.actions.addMessage(`message ${k}`)
    await vi.waitFor(async () => expect(await snapshotFiles(written.dir)).not.toEqual(['snapshot-000000000001.json']), {
      timeout: 10_000,
      interval: 20,
    })
    await server.process.stop('SIGKILL')
  }
  // Started again, without compaction: the newest segment holds every one of these changes.
  await using server = await startServer({ socketRoot: sockets.socketRoot, env: storageEnv(written.dir, { fsync: 'always' }) })
  await using client = await connect<TestStore>(server.address)
  for (let k = 0; k < 8; k++) await client.actions.increment(k)
  await server.process.stop('SIGKILL')
})

afterAll(async () => {
  await written?.[Symbol.asyncDispose]()
  await sockets?.[Symbol.asyncDispose]()
})

/** Starts a server fixture on `dir`, expecting it to refuse; returns its error, the files checked untouched. */
async function refusedOn(dir: string) {
  const files = await dataFiles(dir)
  const hashes = await Promise.all(files.map((name) => fileHash(join(dir, name))))
  const { error } = await refusedStart({ address: fixtureAddress(sockets), env: storageEnv(dir) })
  expect(await dataFiles(dir)).toEqual(files)
  expect(await Promise.all(files.map((name) => fileHash(join(dir, name))))).toEqual(hashes)
  return error
}

describe('a crafted record length in the newest segment', () => {
  for (const [what, length] of [
    ['2 GiB, more than any record can be', 2 ** 31],
    ['100 kB, past the end of the file', 100_000],
  ] as const) {
    it(`(${what}, its checksum sound) is STORE_DAMAGED at its offset, and the records after it are kept`, async () => {
      await using copy = await tempDataDir()
      await copyDataDir(written.dir, copy.dir)
      const journal = (await journalFiles(copy.dir)).at(-1)!
      const bytes = await readFile(join(copy.dir, journal))
      const { records } = parseJournal(bytes)
      expect(records.length).toBeGreaterThan(4)
      const target = records[2]!
      await writeFile(join(copy.dir, journal), withRecordLength(bytes, target.start, length))

      const error = await refusedOn(copy.dir)
      expect(error.code, error.message as string).toBe('STORE_DAMAGED')
      expect(error.data).toEqual({ file: join(copy.dir, journal), offset: target.start })
      expect((await stat(join(copy.dir, journal))).size).toBe(bytes.length)
    })
  }
})

describe('snapshots of the wrong shape, their checksums sound', () => {
  const damages: Record<string, (body: Record<string, unknown>) => Record<string, unknown>> = {
    'a state that is an array': (body) => ({ ...body, state: [] }),
    'a counter that is a string': (body) => ({ ...body, state: { ...(body.state as object), counter: 'x' } }),
    'a negative version': (body) => ({ ...body, version: -1 }),
    'a version that is no integer': (body) => ({ ...body, version: 1.5 }),
    'a record of answers whose answers are no list': (body) => ({
      ...body,
      instances: [{ instanceId: 'i', since: 0, forgotten: -1, answers: 'x' }],
    }),
  }
  for (const [damage, apply] of Object.entries(damages)) {
    it(`${damage} is STORE_DAMAGED naming the snapshot and its body's offset, and left untouched`, async () => {
      await using copy = await tempDataDir()
      await copyDataDir(written.dir, copy.dir)
      const snapshot = (await snapshotFiles(copy.dir)).at(-1)!
      const path = join(copy.dir, snapshot)
      const bytes = await readFile(path)
      // The snapshot alone, so nothing after it can tell the damage first.
      for (const journal of await journalFiles(copy.dir)) await rm(join(copy.dir, journal))
      await writeFile(path, snapshotFile(apply(snapshotBody(bytes))))
      const offset = (await readFile(path)).indexOf(10) + 1

      const error = await refusedOn(copy.dir)
      expect(error.code, `${damage}: ${error.message}`).toBe('STORE_DAMAGED')
      expect(error.data, damage).toEqual({ file: path, offset })
    })
  }

  it('a change in the journal that makes the counter a string is STORE_DAMAGED at that record', async () => {
    await using copy = await tempDataDir()
    await copyDataDir(written.dir, copy.dir)
    const journal = (await journalFiles(copy.dir)).at(-1)!
    const bytes = await readFile(join(copy.dir, journal))
    const last = parseJournal(bytes).records.at(-1)!
    expect(last.payload.t).toBe('change')
    const payload = Buffer.from(JSON.stringify({ ...last.payload, p: [{ op: 'replace', path: ['counter'], value: 'x' }] }))
    const { crc32 } = await import('node:zlib')
    const head = Buffer.alloc(12)
    head.writeUInt32BE(payload.length, 0)
    head.writeUInt32BE(crc32(head.subarray(0, 4)), 4)
    head.writeUInt32BE(crc32(payload), 8)
    await writeFile(join(copy.dir, journal), Buffer.concat([bytes.subarray(0, last.start), head, payload]))

    const error = await refusedOn(copy.dir)
    expect(error.code, error.message as string).toBe('STORE_DAMAGED')
    expect(error.data).toEqual({ file: join(copy.dir, journal), offset: last.start })
  })
})

describe('links planted in the folder', () => {
  it('a journal segment that is a symbolic link is STORE_DAMAGED, not read through', async () => {
    await using copy = await tempDataDir()
    await using elsewhere = await tempDataDir()
    await copyDataDir(written.dir, copy.dir)
    const journal = (await journalFiles(copy.dir)).at(-1)!
    await copyDataDir(written.dir, elsewhere.dir)
    await rm(join(copy.dir, journal))
    await symlink(join(elsewhere.dir, journal), join(copy.dir, journal))

    const { error } = await refusedStart({ address: fixtureAddress(sockets), env: storageEnv(copy.dir) })
    expect(error.code, error.message as string).toBe('STORE_DAMAGED')
    expect(error.data).toEqual({ file: join(copy.dir, journal), offset: 0 })
  })

  it('a link planted at the temporary name of a snapshot never makes the server write through it', async () => {
    await using data = await tempDataDir()
    await using outside = await tempDataDir()
    const victim = join(outside.dir, 'victim')
    await writeFile(victim, 'not the server’s to write')
    await using server = await startServer({ socketRoot: sockets.socketRoot, env: storageEnv(data.dir, { compactBytes: 512 }) })
    // Every name the snapshots of the next segments would have had, for this server's pid.
    for (let seq = 2; seq < 40; seq++) {
      const name = `.snapshot-${String(seq).padStart(12, '0')}.json.${server.process.pid}.tmp`
      await symlink(victim, join(data.dir, name))
    }
    await using client = await connect<TestStore>(server.address)
    for (let k = 0; k < 30; k++) await client.actions.addMessage(`message ${k} ${'x'.repeat(100)}`)
    await vi.waitFor(async () => expect((await snapshotFiles(data.dir)).at(-1)).not.toBe('snapshot-000000000001.json'), {
      timeout: 10_000,
      interval: 20,
    })
    const snapshots = await snapshotFiles(data.dir)
    expect(await readFile(victim, 'utf8')).toBe('not the server’s to write')
    for (const name of snapshots) {
      // Compaction goes on meanwhile: a snapshot listed above may be gone by now, replaced by a newer one.
      const stats = await lstat(join(data.dir, name)).catch((error: NodeJS.ErrnoException) =>
        error.code === 'ENOENT' ? undefined : Promise.reject(error),
      )
      if (stats !== undefined) expect(stats.isFile(), name).toBe(true)
    }

    // The planted names are taken for what a kill leaves, and removed at the next start.
    const view = await server.view()
    await server.process.stop('SIGKILL')
    await using next = await startServer({ socketRoot: sockets.socketRoot, env: storageEnv(data.dir) })
    expect((await readdir(data.dir)).filter((name) => name.endsWith('.tmp'))).toEqual([])
    expect(await readFile(victim, 'utf8')).toBe('not the server’s to write')
    expect((await next.view()).state).toEqual(view.state)
  })
})

describe('temporary files of snapshots cut by a kill', () => {
  it('are removed at the next start, and the store is as it was', async () => {
    await using copy = await tempDataDir()
    await copyDataDir(written.dir, copy.dir)
    const left = [
      '.snapshot-000000000007.json.4242.tmp',
      '.snapshot-000000000008.json.4243.0a1b2c3d4e5f.tmp',
      '.snapshot-000000000009.json.4244.tmp',
    ]
    for (const name of left) await writeFile(join(copy.dir, name), Buffer.alloc(256 * 1024, 7))
    await using server = await startServer({ socketRoot: sockets.socketRoot, env: storageEnv(copy.dir) })
    expect((await readdir(copy.dir)).filter((name) => name.endsWith('.tmp'))).toEqual([])
    expect((await server.view()).state.messages).toHaveLength(12)
  })
})

describe('the folder and its parents', () => {
  it('a folder in a parent that others may write to (no sticky bit) is refused with STORE_LOCKED naming that parent', async () => {
    const parent = await mkdtemp('/tmp/ipcs-open-')
    try {
      await chmod(parent, 0o777)
      const dir = join(parent, 'data')
      await mkdir(dir, { mode: 0o700 })
      const { error } = await refusedStart({ address: fixtureAddress(sockets), env: storageEnv(dir) })
      expect(error.code, error.message as string).toBe('STORE_LOCKED')
      expect(error.data).toEqual({ dir, folder: parent })
      expect(await readdir(dir)).toEqual([])
    } finally {
      await rm(parent, { recursive: true, force: true })
    }
  })

  it('a folder that is a symbolic link is refused with STORE_LOCKED', async () => {
    await using real = await tempDataDir()
    const link = `${real.dir}-link`
    await symlink(real.dir, link)
    try {
      const { error } = await refusedStart({ address: fixtureAddress(sockets), env: storageEnv(link) })
      expect(error.code, error.message as string).toBe('STORE_LOCKED')
      expect(error.message).toContain('symbolic link')
      expect(await readdir(real.dir)).toEqual([])
    } finally {
      await rm(link, { force: true })
    }
  })
})

/** Runs `script` with Node as user nobody; resolves with its first line of output, the process left running. */
function asNobody(script: string, args: string[]) {
  const child = spawn(process.execPath, ['-e', script, ...args], { uid: NOBODY, gid: NOBODY, cwd: '/', stdio: 'pipe' })
  const line = new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (chunk) => {
      out += chunk
      if (out.includes('\n')) resolve(out.split('\n')[0]!)
    })
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)))
  })
  return { child, line }
}

describe('the lock, against another user', () => {
  it('another user binding names after the folder or its lock socket cannot keep its owner out', async (context) => {
    const reason = cannotRunAsNobody()
    if (reason !== undefined) {
      console.log(`the lock, against another user: skipped, ${reason}`)
      context.skip()
    }
    await using data = await tempDataDir()
    const { dev, ino } = await stat(data.dir)
    // Abstract socket names have no permissions: any user can bind any of them.
    const squatter = asNobody(
      `const net = require('node:net')
       const [dev, ino, sock] = process.argv.slice(1)
       const name = '\\0ipc-state/store/' + dev + '/' + ino
       net.createServer().on('error', (e) => console.log('abstract ' + e.code)).listen(name, () => {
         net.createServer().on('error', (e) => console.log('bound abstract, socket ' + e.code)).listen(sock, () => console.log('bound both'))
       })`,
      [String(dev), String(ino), join(data.dir, 'store.sock')],
    )
    try {
      expect(await squatter.line).toBe('bound abstract, socket EACCES')
      await using server = await startServer({ socketRoot: sockets.socketRoot, env: storageEnv(data.dir, { fsync: 'always' }) })
      await using client = await connect<TestStore>(server.address)
      expect(await client.actions.increment(2)).toBe(2)
      // Nor can it reach the owner's lock to take it for dead.
      const prober = await new Promise<string>((resolve) =>
        execFile(
          process.execPath,
          [
            '-e',
            `require('node:net').connect(process.argv[1]).on('connect', () => console.log('connected')).on('error', (e) => console.log(e.code))`,
            join(data.dir, 'store.sock'),
          ],
          { uid: NOBODY, gid: NOBODY, cwd: '/' },
          (_error, stdout) => resolve(stdout.trim()),
        ),
      )
      expect(prober).toBe('EACCES')
    } finally {
      squatter.child.kill('SIGKILL')
    }
  })
})
