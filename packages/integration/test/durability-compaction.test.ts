// Snapshots keep the data folder small, and what they hold is enough to carry on after a restart:
// the state, the version, the epoch, and the answers to calls a client may still resend.
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { readFile } from 'node:fs/promises'
import { describe, expect, it, vi } from 'vitest'
import { startClient, startLoadClient } from '../src/processes/client-fixture.js'
import { dataFiles, parseJournal, storageEnv, tempDataDir } from '../src/storage/data-dir.js'
import { ask, type FixtureEvent, tempSocketRoot } from '../src/processes/processes.js'
import { RawClient } from '../src/peers/raw-client.js'
import { startServer } from '../src/processes/server-fixture.js'

const COMPACT_BYTES = 4096
const MESSAGES = 150

describe('compaction', () => {
  it('leaves one snapshot and a short journal, from which a restart resumes state, version, epoch and answers', async () => {
    await using data = await tempDataDir()
    await using sockets = await tempSocketRoot()
    const start = () => startServer({ socketRoot: sockets.socketRoot, env: storageEnv(data.dir, { compactBytes: COMPACT_BYTES }) })
    const first = await start()
    let restarted: Awaited<ReturnType<typeof start>> | undefined
    try {
      // A call whose answer must still be on record after the journal that held it is compacted away.
      const resender = await RawClient.hello(first.path, { clientId: 'resender', id: 1 })
      await resender.send({ type: 'action/call', data: { id: 2, action: 'increment', input: 1000 } })
      const answered = (await resender.response(2)).data.result
      expect(answered.value).toBe(1000)
      await resender.close()

      await using watcher = startClient(first, { IPC_STATE_WATCH: '1' })
      const connected = await watcher.waitFor('connected')
      expect(connected.epoch).toBe(first.epoch)
      {
        await using writer = startLoadClient(first, {
          IPC_STATE_ACTION: 'addMessage',
          IPC_STATE_TEXT_BYTES: '200',
          IPC_STATE_CALLS: String(MESSAGES),
          IPC_STATE_CONCURRENCY: '4',
        })
        const done = await writer.waitFor('done')
        // Each call, and one more at the end.
        expect([done.acked, done.errors]).toEqual([MESSAGES + 1, {}])
      }

      // Snapshots are written in the background while calls go on, so the journal may have grown past
      // compactBytes meanwhile; once the folder has settled, the next call starts a new segment then.
      let files: string[] = []
      const settled = () =>
        vi.waitFor(
          async () => {
            files = await dataFiles(data.dir)
            expect(files.filter((name) => !name.startsWith('store.'))).toHaveLength(2)
            // The room for the next snapshot is written again once the last one is on disk.
            expect(files).toContain('store.reserve')
          },
          { timeout: 10_000, interval: 20 },
        )
      await settled()
      expect(await ask(watcher, { op: 'call', action: 'addMessage', input: 'after the load' })).toMatchObject({
        value: MESSAGES + 2,
      })
      await settled()
      const [journal, snapshot] = files
      const seq = /^journal-(\d{12})\.log$/.exec(journal!)?.[1]
      expect(files, 'one journal, the snapshot it starts from, the lock and room for the next snapshot').toEqual([
        `journal-${seq}.log`,
        `snapshot-${seq}.json`,
        'store.lock',
        'store.reserve',
        'store.sock',
      ])
      // A segment opened by a snapshot taken on the way (the new folder's first is segment 1).
      expect(Number(seq)).toBeGreaterThan(1)
      const journalBytes = (await stat(join(data.dir, journal!))).size
      // Under compactBytes before the last call's record, after more than 30 kB of messages.
      expect(journalBytes).toBeLessThan(COMPACT_BYTES + 1024)
      expect(parseJournal(await readFile(join(data.dir, journal!))).validEnd).toBe(journalBytes)
      expect((await stat(join(data.dir, snapshot!))).size).toBeGreaterThan(0)
      const before = await first.view()
      expect(before.state.messages).toHaveLength(MESSAGES + 2)
      expect(before.state.counter).toBe(1000)

      // The watcher sleeps through the restart, and wakes to changes it missed.
      const mark = watcher.events.length
      process.kill(watcher.pid, 'SIGSTOP')
      await first.process.stop('SIGKILL')
      restarted = await start()
      expect([restarted.ready.version, restarted.epoch]).toEqual([before.version, first.epoch])
      expect(await restarted.view()).toEqual(before)

      // The call resent after the restart is answered from the record in the snapshot, not applied again.
      await using again = await RawClient.hello(restarted.path, { clientId: 'resender', id: 3 })
      await again.send({ type: 'action/call', data: { id: 2, action: 'increment', input: 1000 } })
      expect((await again.response(2)).data).toMatchObject({ result: answered })
      expect((await restarted.view()).version).toBe(before.version)
      await again.send({ type: 'action/call', data: { id: 4, action: 'increment', input: 1 } })
      expect((await again.response(4)).data.result.value).toBe(1001)

      process.kill(watcher.pid, 'SIGCONT')
      const report = (await ask(watcher, { op: 'report', until: { counter: 1001 } })) as FixtureEvent & {
        epoch: string
        reasons: Record<string, number>
        jumps: { reason: string }[]
        state: unknown
      }
      const after = await restarted.view()
      expect(report.state).toEqual(after.state)
      // Same store, so a resync; a reset would mean the replica was thrown away.
      expect(report.epoch).toBe(first.epoch)
      expect(report.reasons.reset).toBeUndefined()
      expect(report.reasons.resync).toBeGreaterThanOrEqual(1)
      expect(report.jumps.filter((jump) => jump.reason !== 'resync')).toEqual([])
      const statuses = watcher.events.slice(mark).filter((e) => e.event === 'status')
      expect(statuses.map((e) => e.status)).toEqual(['reconnecting', 'connected'])
    } finally {
      await first[Symbol.asyncDispose]()
      await restarted?.[Symbol.asyncDispose]()
    }
  })
})
