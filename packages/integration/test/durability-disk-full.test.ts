// A full disk: calls that cannot be written fail with PERSIST_FAILED and change nothing, the server
// keeps serving reads, also after a crash, and takes calls again by itself once there is room; a
// journal that fills the disk is folded into a snapshot, before it does or, once it did, as soon as
// there is room for one.
//
// The disk is a small tmpfs where mount is permitted (root in a container); elsewhere, or with
// IPC_STATE_FULL_DISK=inject, the server's writes to its data folder fail with ENOSPC by a fixture
// (full-disk-server.ts) instead, and the tests' names say which.
import { execFileSync } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { mkdtemp, rm, stat, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { connect, type IpcStateClient } from '@ipc-state/client'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { caught } from '../src/checks.js'
import { copyDataDir, storageEnv, tempDataDir } from '../src/storage/data-dir.js'
import { fixture, tempSocketRoot } from '../src/processes/processes.js'
import { type ServerHandle, type ServerView, startServer } from '../src/processes/server-fixture.js'
import type { TestStore } from '../src/stores/test-store.js'

/** A disk for data folders, that a test fills and frees. */
interface FullableDisk extends AsyncDisposable {
  /** Where data folders go on it. */
  readonly root: string
  /** The server fixture to run on it. */
  readonly script: string
  /** Variables that script needs beyond the storage ones. */
  readonly env: Record<`IPC_STATE_${string}`, string>
  /** Fills the disk to its last byte, then frees `leave` bytes of it again (tmpfs only). */
  fill(leave?: number): Promise<void>
  free(): Promise<void>
}

const TMPFS_SIZE = '1m'

/** Mounts a tmpfs on `mountPoint`; throws where that is not permitted. */
const mountTmpfs = (mountPoint: string) =>
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_SIZE},mode=0700`, 'tmpfs', mountPoint], { stdio: 'pipe' })

/** Why a tmpfs cannot be mounted here, or `undefined` when it can: tried once, and unmounted at once. */
function cannotMount(): string | undefined {
  if (process.env.IPC_STATE_FULL_DISK === 'inject') return 'IPC_STATE_FULL_DISK=inject asks for it'
  const probe = mkdtempSync('/tmp/ipcs-disk-')
  try {
    mountTmpfs(probe)
    execFileSync('umount', [probe])
    return undefined
  } catch (error) {
    return `mount -t tmpfs is not permitted here (${String(error).split('\n')[0]})`
  } finally {
    rmSync(probe, { recursive: true, force: true })
  }
}

/** A small tmpfs on a fresh folder, that `fill` fills to its last byte with a filler file. */
async function tmpfsDisk(): Promise<FullableDisk> {
  const mountPoint = await mkdtemp('/tmp/ipcs-disk-')
  mountTmpfs(mountPoint)
  const filler = join(mountPoint, 'filler')
  return {
    root: mountPoint,
    script: fixture('servers/server.ts'),
    env: {},
    // Writes until the disk says no, in smaller and smaller pieces, down to single bytes.
    async fill(leave = 0) {
      const fd = openSync(filler, 'a')
      try {
        for (let chunk = 64 * 1024; chunk >= 1; chunk = Math.floor(chunk / 2)) {
          try {
            for (;;) writeSync(fd, Buffer.alloc(chunk, 1))
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error
          }
        }
      } finally {
        closeSync(fd)
      }
      if (leave > 0) await truncate(filler, Math.max(0, (await stat(filler)).size - leave))
    },
    free: () => rm(filler, { force: true }),
    [Symbol.asyncDispose]: async () => {
      execFileSync('umount', [mountPoint])
      await rm(mountPoint, { recursive: true, force: true })
    },
  }
}

/** Folders on the ordinary disk, where the server's writes fail with ENOSPC while a flag file exists. */
async function injectedFullDisk(): Promise<FullableDisk> {
  const parent = await mkdtemp('/tmp/ipcs-disk-')
  const flag = join(parent, 'disk-is-full')
  return {
    root: parent,
    script: fixture('servers/full-disk-server.ts'),
    env: { IPC_STATE_DISK_FULL_FLAG: flag },
    fill: () => writeFile(flag, ''),
    free: () => rm(flag, { force: true }),
    [Symbol.asyncDispose]: () => rm(parent, { recursive: true, force: true }),
  }
}

const mountRefusal = cannotMount()
const how =
  mountRefusal === undefined
    ? `a real ${TMPFS_SIZE} tmpfs filled to the last byte`
    : `ENOSPC injected into the server's writes, as ${mountRefusal}`
const TEXT = 'x'.repeat(300)

/** A client that adds messages, numbered in the order they were applied. */
function messenger(client: IpcStateClient<TestStore>) {
  let made = 0
  return {
    get made() {
      return made
    },
    /** Adds the next message; throws if it is refused or lands out of order. */
    async call() {
      expect(await client.actions.addMessage(`${made} ${TEXT}`)).toBe(made + 1)
      made += 1
    },
  }
}

/**
 * Makes a few calls, fills the disk under the serving server and calls until a call is refused (the
 * journal's last page may still hold a few records); checks the state did not move past the last
 * applied call, and returns the server's view then.
 */
async function fillUntilRefused(
  server: ServerHandle,
  writer: ReturnType<typeof messenger>,
  fill: () => Promise<void>,
): Promise<ServerView> {
  for (let i = 0; i < 3; i++) await writer.call()
  await fill()
  let refused: Awaited<ReturnType<typeof caught>> | undefined
  for (let i = 0; i < 100 && refused === undefined; i++) {
    refused = await writer.call().then(
      () => undefined,
      (error) => error,
    )
  }
  expect(refused?.code, String(refused)).toBe('PERSIST_FAILED')
  const stuck = await server.view()
  const texts = Array.from({ length: writer.made }, (_, i) => `${i} ${TEXT}`)
  expect([stuck.state.messages.map((message) => message.text), stuck.version]).toEqual([texts, writer.made])
  return stuck
}

describe('a full disk', () => {
  let disk: FullableDisk | undefined
  beforeAll(async () => {
    disk = mountRefusal === undefined ? await tmpfsDisk() : await injectedFullDisk()
  })
  afterEach(async () => {
    await disk?.free()
  })
  afterAll(async () => {
    await disk?.[Symbol.asyncDispose]()
  })
  /** Starts (and after a kill, starts again) a server fixture on data folder `name` of the disk. */
  const serverOn = (name: string, socketRoot: string) => {
    const env = { ...storageEnv(join(disk!.root, name), { fsync: 'always' }), ...disk!.env }
    return () => startServer({ socketRoot, script: disk!.script, env })
  }

  it(`refuses calls with PERSIST_FAILED, serves reads, and recovers without a restart (${how})`, async () => {
    const { root, fill, free } = disk!
    await using sockets = await tempSocketRoot()
    const start = serverOn('serving', sockets.socketRoot)
    let server = await start()
    try {
      await using client = await connect<TestStore>(server.address)
      const writer = messenger(client)
      await fillUntilRefused(server, writer, fill)
      // A further change is refused, or taken in order where folding the journal into a snapshot made
      // room; the state never moves ahead of the disk.
      for (let i = 0; i < 3; i++) {
        await fill()
        await writer.call().catch((error) => expect(error.code, String(error)).toBe('PERSIST_FAILED'))
      }
      const stuck = await server.view()
      expect(stuck.version).toBe(writer.made)
      expect(await client.getState()).toEqual(stuck.state)
      expect(client.state).toEqual(stuck.state)
      expect(await server.view()).toEqual(stuck)

      // What is on the disk now is what memory holds: a server started on a copy of it (on a disk
      // with room, and without the lock of the live one) has the same state.
      {
        await using copy = await tempDataDir()
        await copyDataDir(join(root, 'serving'), copy.dir)
        await using copied = await startServer({ socketRoot: sockets.socketRoot, id: 'copy', env: storageEnv(copy.dir) })
        expect(await copied.view()).toEqual(stuck)
      }

      // Room again: the same server takes changes, without a restart (it may wait a moment before it
      // tries the disk again; a refused call was not applied, so calling again is safe).
      await free()
      await vi.waitFor(writer.call, { timeout: 10_000, interval: 50 })
      expect(await client.actions.increment(2)).toBe(2)
      const recovered = await server.view()
      expect(recovered.version).toBe(writer.made + 1)

      // Killed and started again on the folder, it has exactly what memory had.
      await server.process.stop('SIGKILL')
      server = await start()
      expect(await server.view()).toEqual(recovered)
      await writer.call()
    } finally {
      await server[Symbol.asyncDispose]()
    }
  })

  it(`a server killed and started again on the full disk serves what memory had, and takes calls once there is room (${how})`, async () => {
    const { fill, free } = disk!
    await using sockets = await tempSocketRoot()
    const start = serverOn('restarted', sockets.socketRoot)
    let server = await start()
    try {
      await using client = await connect<TestStore>(server.address)
      const writer = messenger(client)
      const stuck = await fillUntilRefused(server, writer, fill)

      await server.process.stop('SIGKILL')
      server = await start()
      expect(await server.view()).toEqual(stuck)
      // Its clients come back to it: reads are served, changes refused while the disk is full.
      expect(await client.getState()).toEqual(stuck.state)
      expect((await caught(client.actions.addMessage(`refused ${TEXT}`))).code).toBe('PERSIST_FAILED')
      expect(await server.view()).toEqual(stuck)

      await free()
      await vi.waitFor(writer.call, { timeout: 10_000, interval: 50 })
      expect((await server.view()).version).toBe(stuck.version + 1)
    } finally {
      await server[Symbol.asyncDispose]()
    }
  })

  /** Makes `calls` increments, `batch` at a time, each answered with the counter it led to. */
  async function increments(client: IpcStateClient<TestStore>, calls: number, batch = 25): Promise<void> {
    for (let made = 0; made < calls; made += batch) {
      const start = client.state!.counter
      const answers = await Promise.all(Array.from({ length: Math.min(batch, calls - made) }, () => client.actions.increment(1)))
      expect(answers.sort((a, b) => a - b)).toEqual(answers.map((_, i) => start + i + 1))
    }
  }

  it.skipIf(mountRefusal !== undefined)(
    'a journal that fills the disk on its own is folded into a snapshot in time, and once it did fill it, freeing a little room brings writes back for good (a real tmpfs)',
    async () => {
      const { fill, free } = disk!
      await using sockets = await tempSocketRoot()
      // The journal's default compactBytes (64 MiB) is far more than the disk holds.
      await using server = await serverOn('journal-fills', sockets.socketRoot)()
      await using client = await connect<TestStore>(server.address)
      // About 140 journal bytes each: 5,000 are about 700 kB, more than the room left. A snapshot holds
      // the record of answers too (about 120 kB), and needs room beside the one it replaces.
      await fill(512 * 1024)
      await increments(client, 5_000)
      expect((await server.view()).state.counter).toBe(5_000)

      // Full to the last byte, whatever a snapshot freed taken as well: calls are refused...
      let refused: Awaited<ReturnType<typeof caught>> | undefined
      for (let i = 0; i < 5_000 && refused === undefined; i++) {
        await fill()
        refused = await client.actions.increment(1).then(
          () => undefined,
          (error) => error,
        )
      }
      expect(refused?.code, String(refused)).toBe('PERSIST_FAILED')
      const stuck = (await server.view()).state.counter
      // ...until some room is freed: far less than the journal will need, enough for a snapshot.
      await fill(384 * 1024)
      await vi.waitFor(() => client.actions.increment(1), { timeout: 10_000, interval: 50 })
      await increments(client, 5_000)
      expect((await server.view()).state.counter).toBe(stuck + 5_001)
      await free()
    },
  )
})
