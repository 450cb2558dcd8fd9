// Starting one side's server, whatever its kind, in its own process, closed when the scenario ends.
import { Redis } from 'ioredis'
import { initialBenchState, makeItems } from '../stores/bench-state.js'
import { type AofMode, type RedisInstance, startRedis } from './redis-server.js'
import type { BenchContext } from '../scenario.js'
import type { Address, SharedStoreConfig, SideKind, StorageConfig } from '../workers/configs.js'
import { startWorker, type Worker } from './worker-process.js'

/** What a side's server starts with. */
export interface ServerOptions {
  /** Items in the state's list (Redis: the list `list`, and the state as JSON under `state`). */
  listItems?: number
  /** ipc-state only: its durable storage, in a new folder of the run's unless `dir` is given. */
  storage?: Omit<StorageConfig, 'dir'> & { dir?: string }
  /** ipc-state only: a store shared through Redis (instead of `storage`). */
  sharedStore?: SharedStoreConfig
  /** ipc-state only: listen on a WebSocket instead of the Unix socket; the address is then its URL and token. */
  websocket?: boolean
  /** Redis only: its AOF. @default 'none' */
  aof?: AofMode
}

/** A started server. */
export interface StartedServer {
  readonly address: Address
  /** The ipc-state, node:net or node-ipc server's process. */
  readonly worker?: Worker
  /** The Redis instance. */
  readonly redis?: RedisInstance
  /** The ipc-state server's data folder. */
  readonly storageDir?: string
}

/** Starts a server of `kind`, and registers its stop with the scenario. */
export async function startServer(context: BenchContext, kind: SideKind, options: ServerOptions = {}): Promise<StartedServer> {
  const name = context.uniqueName(kind)
  const listItems = options.listItems ?? 0
  if (kind === 'redis') {
    const dir = context.temp.file(`${name}-data`)
    const redis = await startRedis(context.redisBinary!, {
      path: context.temp.file(`${name}.sock`),
      dir,
      aof: options.aof ?? 'none',
    })
    context.defer(() => redis.stop())
    if (listItems > 0) await seedRedis(redis.path, listItems)
    return { address: { kind, path: redis.path }, redis }
  }
  let worker: Worker
  let address: Address
  let storage: StorageConfig | undefined
  if (kind === 'ipc-state') {
    address = { kind, socketRoot: `${context.temp.path}/`, appspace: 'bench.', id: name }
    storage = options.storage && { ...options.storage, dir: options.storage.dir ?? context.temp.file(`${name}-data`) }
    worker = startWorker(name, 'ipc-state-server', {
      address,
      listItems,
      storage,
      sharedStore: options.sharedStore,
      websocket: options.websocket,
    })
  } else {
    address = { kind, path: context.temp.file(`${name}.sock`) }
    worker = startWorker(name, kind === 'net' ? 'net-server' : 'node-ipc-server', { path: address.path, listItems })
  }
  context.defer(() => worker.stop())
  const ready = await worker.ready
  if (options.websocket === true) address = { kind: 'websocket', url: ready.url as string, token: ready.token as string }
  return { address, worker, ...(storage && { storageDir: storage.dir }) }
}

/** Gives Redis what the other servers start with: the list, and the whole state as JSON. */
async function seedRedis(path: string, listItems: number): Promise<void> {
  const redis = new Redis({ path })
  try {
    const items = makeItems(listItems)
    const pipeline = redis.pipeline().del('list')
    for (let i = 0; i < items.length; i += 1000)
      pipeline.rpush('list', ...items.slice(i, i + 1000).map((item) => JSON.stringify(item)))
    await pipeline.set('state', JSON.stringify(initialBenchState(listItems))).exec()
  } finally {
    redis.disconnect()
  }
}
