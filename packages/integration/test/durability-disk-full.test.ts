// A full disk: calls that cannot be written fail with PERSIST_FAILED and change nothing, the server
// keeps serving reads, also after a crash, and takes calls again by itself once there is room.
//
// The disk is a small tmpfs where mount is permitted (root in a container); elsewhere, or with
// IPC_STATE_FULL_DISK=inject, the server's writes to its data folder fail with ENOSPC by a fixture
// (full-disk-server.ts) instead, and the tests' names say which.
import { execFileSync } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { connect, type IpcStateClient } from '@ipc-state/client'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { caught } from '../src/checks.js'
import { copyDataDir, storageEnv, tempDataDir } from '../src/data-dir.js'
import { fixture, tempSocketRoot } from '../src/processes.js'
import { type ServerHandle, type ServerView, startServer } from '../src/server-fixture.js'
import type { TestStore } from '../src/test-store.js'

/** A disk for data folders, that a test fills and frees. */
interface FullableDisk extends AsyncDisposable {
  /** Where data folders go on it. */
  readonly root: string
  /** The server fixture to run on it. */
  readonly script: string
  /** Variables that script needs beyond the storage ones. */
  readonly env: Record<`IPC_STATE_${string}`, string>
  fill(): Promise<void>
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
    script: fixture('server.ts'),
    env: {},
    // Writes until the disk says no, in smaller and smaller pieces, down to single bytes.
    async fill() {
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
    script: fixture('full-disk-server.ts'),
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
      const stuck = await fillUntilRefused(server, writer, fill)
      // Every further change as large is refused, and the state does not move ahead of the disk.
      for (let i = 0; i < 3; i++) {
        expect((await caught(client.actions.addMessage(`refused ${TEXT}`))).code).toBe('PERSIST_FAILED')
      }
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
})
