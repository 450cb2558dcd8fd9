// Starting a server from what it persisted: a journal of many changes, and a snapshot of a large
// state. ipc-state: createServer until it resolves, in a fresh process; Redis: from spawning
// redis-server to its "Ready to accept connections" line. Each sample starts from a fresh copy of
// the prepared folder, so no start changes what the next one loads.
import { cpSync, readdirSync, rmSync } from 'node:fs'
import { startRedis } from '../processes/redis-server.js'
import type { BenchContext, BenchSettings, Scenario, ScenarioSide } from '../scenario.js'
import { startServer } from '../processes/servers.js'
import { startWorker } from '../processes/worker-process.js'
import { fillIpcState, fillRedis } from './start-up-data.js'

const NO_COMPACTION = 2 ** 40

type Work = { changes: number; megabytes: number }

function copyOf(context: BenchContext, dir: string): string {
  const copy = context.temp.file(context.uniqueName('copy'))
  cpSync(dir, copy, { recursive: true })
  return copy
}

function ipcStateSide(variant: string, work: Work): ScenarioSide {
  return {
    column: 'ipc-state',
    variant,
    label: `ipc-state from a ${variant}`,
    async start(context) {
      const storage = { fsync: 'off', compactBytes: NO_COMPACTION } as const
      const first = await startServer(context, 'ipc-state', { storage })
      const dir = first.storageDir!
      const progress = (message: string) => context.progress(`  making the ${variant}: ${message}`)
      await fillIpcState(first.address as never, work, progress)
      await first.worker!.stop()
      if (variant === 'snapshot') {
        // A start with a tiny compactBytes writes the state as a snapshot at its first change.
        const second = await startServer(context, 'ipc-state', { storage: { dir, fsync: 'off', compactBytes: 1 } })
        await fillIpcState(second.address as never, { changes: 1, megabytes: 0 }, progress)
        await second.worker!.stop()
        if (!readdirSync(dir).some((file) => file.startsWith('snapshot-'))) throw new Error(`no snapshot was written in ${dir}`)
      }
      const expected = work.changes + work.megabytes + (variant === 'snapshot' ? 1 : 0)
      return {
        async measure() {
          const copy = copyOf(context, dir)
          const name = context.uniqueName('ipc-state-start')
          const address = { kind: 'ipc-state', socketRoot: `${context.temp.path}/`, appspace: 'bench.', id: name }
          const worker = startWorker(name, 'ipc-state-server', { address, listItems: 0, storage: { ...storage, dir: copy } })
          try {
            const ready = (await worker.ready) as { startMs: number; version: number }
            if (ready.version !== expected) throw new Error(`started at version ${ready.version}, not ${expected}`)
            return { startMs: ready.startMs }
          } finally {
            await worker.stop()
            rmSync(copy, { recursive: true, force: true })
          }
        },
      }
    },
  }
}

function redisSide(variant: string, work: Work): ScenarioSide {
  return {
    column: 'redis',
    variant,
    label: `Redis from a ${variant}`,
    async start(context) {
      const first = await startServer(context, 'redis', { aof: 'no' })
      await fillRedis(first.redis!.path, work)
      await first.redis!.stop()
      return {
        async measure() {
          const copy = copyOf(context, first.redis!.dir)
          const redis = await startRedis(context.redisBinary!, {
            path: context.temp.file(`${context.uniqueName('redis')}.sock`),
            dir: copy,
            aof: 'no',
          })
          await redis.stop()
          rmSync(copy, { recursive: true, force: true })
          return { startMs: redis.readyMs }
        },
      }
    },
  }
}

/** Start-up from a journal of many changes and from a snapshot of a large state. */
export const startUp = (settings: BenchSettings): Scenario => {
  const changes = settings.journalChanges
  const megabytes = settings.snapshotMegabytes
  const journal = `from a journal of ${changes.toLocaleString('en')} changes`
  const snapshot = `from a snapshot of ${megabytes} MB`
  return {
    id: 'start-up',
    title: 'start a server from its data folder (createServer / redis-server with AOF)',
    metrics: [{ id: 'startMs', label: 'start', unit: 'ms', better: 'lower' }],
    // Each sample copies the folder and loads it: seconds each, with little spread.
    maxReps: 3,
    variants: { journal, snapshot },
    sides: () => [
      ipcStateSide('journal', { changes, megabytes: 0 }),
      redisSide('journal', { changes, megabytes: 0 }),
      ipcStateSide('snapshot', { changes: 0, megabytes }),
      redisSide('snapshot', { changes: 0, megabytes }),
    ],
  }
}
