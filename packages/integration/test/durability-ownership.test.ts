// One data folder, one server: a second live server is refused, a dead one's lock is taken over.
import { readFile, lstat } from 'node:fs/promises'
import { join } from 'node:path'
import { connect } from '@ipc-state/client'
import { describe, expect, it } from 'vitest'
import { dataFiles, fileHash, storageEnv, tempDataDir } from '../src/storage/data-dir.js'
import { fixtureAddress, serverPath } from '../src/processes/fixture-env.js'
import { tempSocketRoot } from '../src/processes/processes.js'
import { refusedStart } from '../src/processes/refused-start.js'
import { startServer } from '../src/processes/server-fixture.js'
import type { TestStore } from '../src/stores/test-store.js'

/** Whether the lock file names `pid` as its owner. */
const lockNames = async (dir: string, pid: number): Promise<boolean> =>
  new RegExp(`\\b${pid}\\b`).test(await readFile(join(dir, 'store.lock'), 'utf8'))

describe('who owns a data folder', () => {
  it('a second server on the same folder, at another socket path, is refused with STORE_LOCKED while the first serves on', async () => {
    await using data = await tempDataDir()
    await using sockets = await tempSocketRoot()
    const env = storageEnv(data.dir)
    await using first = await startServer({ socketRoot: sockets.socketRoot, id: 'first', env })
    await using client = await connect<TestStore>(first.address)
    expect(await client.actions.increment(3)).toBe(3)
    expect(await lockNames(data.dir, first.process.pid)).toBe(true)
    const files = await dataFiles(data.dir)
    const journalHashes = await Promise.all(
      files.filter((name) => name !== 'store.lock').map((name) => fileHash(join(data.dir, name))),
    )

    const second = fixtureAddress({ socketRoot: sockets.socketRoot, id: 'second' })
    const { error, exit } = await refusedStart({ address: second, env })
    expect(error.code, error.message as string).toBe('STORE_LOCKED')
    expect(exit).toEqual({ code: 1, signal: null })
    // It neither listened nor wrote: no socket left behind, no segment of its own, the lock still the first's.
    await expect(lstat(serverPath(sockets.socketRoot, second))).rejects.toMatchObject({ code: 'ENOENT' })
    expect(await dataFiles(data.dir)).toEqual(files)
    expect(await Promise.all(files.filter((name) => name !== 'store.lock').map((name) => fileHash(join(data.dir, name))))).toEqual(
      journalHashes,
    )
    expect(await lockNames(data.dir, first.process.pid)).toBe(true)

    // The first server never noticed.
    expect(await client.actions.increment(4)).toBe(7)
    expect((await first.view()).state.counter).toBe(7)
  })

  it('the lock of a server killed with SIGKILL is taken over by the next one, which has its state', async () => {
    await using data = await tempDataDir()
    await using sockets = await tempSocketRoot()
    const env = storageEnv(data.dir, { fsync: 'always' })
    await using dead = await startServer({ socketRoot: sockets.socketRoot, env })
    {
      await using client = await connect<TestStore>(dead.address)
      expect(await client.actions.increment(5)).toBe(5)
      await dead.process.stop('SIGKILL')
    }
    // The lock is still there, naming a process that no longer runs.
    expect(await lockNames(data.dir, dead.process.pid)).toBe(true)

    await using next = await startServer({ socketRoot: sockets.socketRoot, env })
    expect(await lockNames(data.dir, next.process.pid)).toBe(true)
    expect(await lockNames(data.dir, dead.process.pid)).toBe(false)
    expect((await next.view()).state.counter).toBe(5)
    expect(next.epoch).toBe(dead.epoch)
    await using client = await connect<TestStore>(next.address)
    expect(await client.actions.increment(1)).toBe(6)
  })

  it("of four servers started at once on a dead server's folder, exactly one takes it over, every time", async () => {
    await using data = await tempDataDir()
    await using sockets = await tempSocketRoot()
    const env = storageEnv(data.dir, { fsync: 'always' })
    let counter = 0
    for (let round = 0; round < 5; round++) {
      // Each round leaves the lock of a server killed with SIGKILL, then four starts race for it.
      const starts = await Promise.allSettled(
        [0, 1, 2, 3].map((n) => startServer({ socketRoot: sockets.socketRoot, id: `r${round}s${n}`, env })),
      )
      const started = starts.flatMap((start) => (start.status === 'fulfilled' ? [start.value] : []))
      const refusals = starts.flatMap((start) => (start.status === 'rejected' ? [String(start.reason)] : []))
      expect(started, refusals.join('\n')).toHaveLength(1)
      for (const refusal of refusals) expect(refusal).toContain('STORE_LOCKED')
      const [owner] = started
      {
        await using client = await connect<TestStore>(owner!.address)
        counter += 1
        expect(await client.actions.increment(1)).toBe(counter)
      }
      await owner!.process.stop('SIGKILL')
      await owner![Symbol.asyncDispose]()
    }
  })
})
