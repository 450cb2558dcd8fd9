// Durable increments from several writer processes: ipc-state's data folder with each fsync mode
// against Redis's AOF with the matching appendfsync, all in one temporary folder on one disk, and
// the bytes each writes per change.
import { Redis } from 'ioredis'
import { dirSize } from '../processes/dir-size.js'
import type { AofMode } from '../processes/redis-server.js'
import type { BenchSettings, Scenario, ScenarioSide } from '../scenario.js'
import type { StorageConfig } from '../workers/configs.js'
import type { StartedServer } from '../processes/servers.js'
import { type CallsSideOptions, callsSide } from './calls-side.js'

/** ipc-state's fsync mode and Redis's appendfsync that does the same. */
const MODES: readonly { fsync: StorageConfig['fsync']; aof: AofMode; label: string }[] = [
  { fsync: 'always', aof: 'always', label: 'fsync always / appendfsync always' },
  { fsync: 'interval', aof: 'everysec', label: 'fsync interval (1 s) / appendfsync everysec' },
  { fsync: 'off', aof: 'no', label: 'fsync off / appendfsync no' },
]

/** So that no snapshot is written (and no segment deleted) while the bytes are counted. */
const NO_COMPACTION = 2 ** 40

/**
 * The calls side of `options`, plus how many bytes its server had written, by `bytesOf`, per
 * change (the warm-up's changes counted too: they are written as well).
 */
function withBytesPerChange(
  options: Omit<CallsSideOptions, 'before' | 'extra' | 'onServer'>,
  bytesOf: (server: StartedServer) => Promise<number>,
) {
  let server: StartedServer | undefined
  let before = 0
  return callsSide({
    ...options,
    onServer: (started) => {
      server = started
    },
    before: async () => {
      before = await bytesOf(server!)
    },
    extra: async (results) => ({
      bytesPerChange: ((await bytesOf(server!)) - before) / results.reduce((sum, result) => sum + result.totalCalls, 0),
    }),
  })
}

/**
 * What Redis has written to its AOF plus what it holds in its AOF buffer: with `everysec`, Redis
 * puts off its write(2) while a background fsync is still running, for up to two seconds.
 */
async function redisAofBytes(server: StartedServer): Promise<number> {
  const redis = new Redis({ path: server.redis!.path })
  try {
    const info = await redis.info('persistence')
    return dirSize(server.redis!.dir) + Number(/^aof_buffer_length:(\d+)/m.exec(info)?.[1] ?? 0)
  } finally {
    redis.disconnect()
  }
}

function sides(writers: number): ScenarioSide[] {
  return MODES.flatMap((mode): ScenarioSide[] => {
    const common = { variant: mode.fsync, op: 'incr', clients: writers, inFlight: 1, replica: false } as const
    return [
      withBytesPerChange(
        {
          ...common,
          column: 'ipc-state',
          label: `ipc-state fsync ${mode.fsync}`,
          server: { storage: { fsync: mode.fsync, compactBytes: NO_COMPACTION } },
        },
        async (server) => dirSize(server.storageDir!),
      ),
      withBytesPerChange(
        { ...common, column: 'redis', label: `Redis appendfsync ${mode.aof}`, server: { aof: mode.aof } },
        redisAofBytes,
      ),
    ]
  })
}

/** Durable increments per second and bytes written per change, per fsync mode. */
export const durability = (settings: BenchSettings): Scenario => ({
  id: 'durability',
  title: `durable increments from ${settings.writers} writer ${settings.writers === 1 ? 'process' : 'processes'} (increment / INCR), 1 in flight each`,
  metrics: [
    { id: 'rate', label: 'durable increments', unit: 'changes/s', better: 'higher' },
    { id: 'bytesPerChange', label: 'bytes written per change', unit: 'bytes', better: 'lower' },
  ],
  variants: Object.fromEntries(MODES.map((mode) => [mode.fsync, mode.label])),
  sides: () => sides(settings.writers),
})
