// Several ipc-state servers sharing one store in one redis-server (@ipc-state/redis): calls per
// second and their p99 latency with 1, 2 and 3 servers, 2 writer processes each, against INCR from
// as many processes; and the lag from a writer on one server to a replica on another, against
// PUBLISH → SUBSCRIBE between two processes.
import { type ClientGroup, startClients } from '../processes/clients.js'
import { startRedis } from '../processes/redis-server.js'
import type { BenchContext, BenchSettings, Scenario, ScenarioSide } from '../scenario.js'
import { type StartedServer, startServer } from '../processes/servers.js'
import type { Address, SideKind } from '../workers/configs.js'
import type { LagResult } from '../workers/lags.js'
import type { CallsResult } from '../workers/workloads.js'

const SERVER_COUNTS = [1, 2, 3] as const
/** The writers of each server; fewer when `--writers` is lower (as with `--quick`). */
const WRITERS_PER_SERVER = 2
const STORE_KEY = 'bench'

/** "1 server", "2 servers", "2 INCR processes". */
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : word.endsWith('s') ? 'es' : 's'}`

/**
 * Starts a redis-server and `count` ipc-state servers sharing one store in it, and resolves with
 * the servers' addresses. When the scenario ends the servers are stopped before Redis, so that none
 * is left waiting on a Redis that went away while it closed.
 */
async function startSharedServers(context: BenchContext, count: number, relayCalls = true): Promise<Address[]> {
  const name = context.uniqueName('shared-redis')
  const redis = await startRedis(context.redisBinary!, {
    path: context.temp.file(`${name}.sock`),
    dir: context.temp.file(`${name}-data`),
    aof: 'none',
  })
  const servers: StartedServer[] = []
  context.defer(async () => {
    await Promise.allSettled(servers.map((server) => server.worker!.stop()))
    await redis.stop()
  })
  const start = async () => {
    const server = await startServer(context, 'ipc-state', { sharedStore: { url: redis.path, key: STORE_KEY, relayCalls } })
    servers.push(server)
    return server.address
  }
  // The first server makes the store; the others then join it together.
  const first = await start()
  return [first, ...(await Promise.all(Array.from({ length: count - 1 }, start)))]
}

/**
 * How the ipc-state servers of a row keep their store: shared in Redis with one writer running every
 * call (the default), shared with each server running its own clients' calls (`relayCalls: false`),
 * or one server with a data folder (fsync `interval`), the figure a shared store is held against.
 */
type StoreMode = 'relay' | 'own' | 'folder'

const VARIANT_SUFFIX: Record<StoreMode, string> = { relay: '', own: ' own', folder: ' folder' }

/** Calls per second from every writer of `servers` servers (Redis: as many INCR processes). */
function callsSide(column: SideKind, servers: number, writersPerServer: number, mode: StoreMode = 'relay'): ScenarioSide {
  const processes = servers * writersPerServer
  const how = { relay: '', own: ', each running its own calls', folder: ' with a data folder' }[mode]
  return {
    column,
    variant: `${servers}${VARIANT_SUFFIX[mode]}`,
    label: column === 'redis' ? `Redis, ${plural(processes, 'INCR process')}` : `ipc-state, ${plural(servers, 'server')}${how}`,
    async start(context) {
      let groups: ClientGroup[]
      if (column === 'redis') {
        const server = await startServer(context, 'redis')
        groups = [await startClients(context, server.address, processes)]
      } else if (mode === 'folder') {
        const server = await startServer(context, 'ipc-state', { storage: { fsync: 'interval' } })
        groups = [await startClients(context, server.address, processes, { replica: false })]
      } else {
        const addresses = await startSharedServers(context, servers, mode === 'relay')
        // Writers, as the durability rows' are: a Redis client that only writes gets nothing but its answer.
        groups = await Promise.all(addresses.map((address) => startClients(context, address, writersPerServer, { replica: false })))
      }
      return {
        async measure() {
          const workload = {
            op: 'incr',
            payloadBytes: 0,
            inFlight: 1,
            durationMs: context.settings.durationMs,
            warmupMs: context.settings.warmupMs,
          }
          const results = (await Promise.all(groups.map((group) => group.all<CallsResult>('calls', workload)))).flat()
          return {
            rate: results.reduce((sum, result) => sum + result.calls / result.seconds, 0),
            // The slowest writer's: a server that keeps losing races shows here.
            p99Us: Math.max(...results.map((result) => result.p99Us)),
          }
        },
      }
    },
  }
}

/**
 * The lag of stamped messages: ipc-state, a write-only writer on one server calling `publish` with
 * its wall clock, and a replica on another server; Redis, `PUBLISH` from one process to another
 * that `SUBSCRIBE`d. One message in flight.
 */
function lagSide(column: SideKind): ScenarioSide {
  return {
    column,
    variant: 'lag',
    label: column === 'redis' ? 'Redis PUBLISH → SUBSCRIBE' : 'ipc-state, server A → replica on server B',
    async start(context) {
      let from: Address
      let to: Address
      if (column === 'redis') from = to = (await startServer(context, 'redis')).address
      else [from, to] = (await startSharedServers(context, 2)) as [Address, Address]
      const [writer, reader] = await Promise.all([startClients(context, from, 1, { replica: false }), startClients(context, to, 1)])
      await reader.all('subscribe')
      return {
        async measure() {
          const [published] = await writer.all<CallsResult>('calls', {
            op: 'publish',
            stamp: true,
            payloadBytes: 0,
            inFlight: 1,
            durationMs: context.settings.durationMs,
            warmupMs: context.settings.warmupMs,
          })
          const [lags] = await reader.all<LagResult>('lags', { count: published!.totalCalls, since: published!.startedAt })
          return { lagP50Us: lags!.p50Us, lagP99Us: lags!.p99Us }
        },
      }
    },
  }
}

/** 1, 2 and 3 ipc-state servers sharing one store in Redis, and the lag from one to another. */
export function sharedServers(settings: BenchSettings): Scenario {
  const writers = Math.min(WRITERS_PER_SERVER, settings.writers)
  const each = `${plural(writers, 'writer')} each`
  const variants: Record<string, string> = { lag: 'server A → replica on B / PUBLISH → SUBSCRIBE' }
  for (const n of SERVER_COUNTS)
    variants[`${n}`] = `${plural(n, 'server')} × ${plural(writers, 'writer')} / ${plural(n * writers, 'INCR process')}`
  for (const n of SERVER_COUNTS.slice(1))
    variants[`${n} own`] = `${plural(n, 'server')} × ${plural(writers, 'writer')}, each running its own calls`
  variants['1 folder'] = `the same with a data folder (fsync interval), 1 server × ${plural(writers, 'writer')}`
  return {
    id: 'shared-servers',
    title: `ipc-state servers sharing one store in Redis, ${each} (increment / INCR, 1 in flight), and the lag between servers`,
    needsRedis: true,
    metrics: [
      { id: 'rate', label: 'shared store', unit: 'calls/s', better: 'higher' },
      { id: 'p99Us', label: 'shared store: p99 latency', unit: 'µs', better: 'lower' },
      { id: 'lagP50Us', label: 'cross-server lag p50', unit: 'µs', better: 'lower' },
      { id: 'lagP99Us', label: 'cross-server lag p99', unit: 'µs', better: 'lower' },
    ],
    variants,
    sides: () => [
      ...SERVER_COUNTS.flatMap((n) => [callsSide('ipc-state', n, writers), callsSide('redis', n, writers)]),
      ...SERVER_COUNTS.slice(1).map((n) => callsSide('ipc-state', n, writers, 'own')),
      callsSide('ipc-state', 1, writers, 'folder'),
      lagSide('ipc-state'),
      lagSide('redis'),
    ],
  }
}
