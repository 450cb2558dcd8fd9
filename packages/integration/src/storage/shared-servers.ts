// Servers of the test store that share one store in Redis (fixtures/servers/shared-server.ts), each on its
// own socket in one temporary folder, with its own clients.
import type { FixtureEnv } from '../processes/fixture-env.js'
import { type FixtureAddress, addressEnv, fixtureAddress } from '../processes/fixture-env.js'
import { type FixtureProcess, fixture, startFixture } from '../processes/processes.js'

/** Where the shared servers keep their store. */
export interface SharedStore {
  /** The storage's URL (a socket path, with the password when there is one). */
  url: string
  /** The key prefix in Redis. */
  key: string
  /** Versions between snapshots; unset for the default. */
  snapshotEvery?: number
  /** `false`: each server runs its own clients' calls (the storage's `relayCalls`); unset for the default. */
  relayCalls?: boolean
}

/** One shared server: its address, and its process while it runs. */
export interface SharedServer {
  readonly address: FixtureAddress
  process: FixtureProcess
  /** Starts a new process for this server (after the last one ended) and waits for it to listen. */
  restart(): Promise<void>
}

/** The id the running process of `server` holds its leases under in the store (a new one at each start). */
export function leaseIdOf(server: SharedServer): string {
  const lease = server.process.events.find((event) => event.event === 'lease')
  if (typeof lease?.serverId !== 'string') throw new Error(`${server.address.id} did not say its lease id`)
  return lease.serverId
}

/** The server that holds the writer's lease of the store under `key` now (see `redisStorage`'s `relayCalls`). */
export async function writerOf(
  servers: readonly SharedServer[],
  redis: { command(...args: string[]): Promise<string> },
  key: string,
) {
  const holder = await redis.command('GET', `${key}:writer`)
  const writer = servers.find((server) => leaseIdOf(server) === holder)
  if (writer === undefined) throw new Error(`no running server holds the writer's lease (${JSON.stringify(holder)})`)
  return writer
}

/** The variables that point `fixtures/servers/shared-server.ts` at `store`. */
export function sharedStoreEnv(store: SharedStore): FixtureEnv {
  return {
    IPC_STATE_REDIS_URL: store.url,
    IPC_STATE_REDIS_KEY: store.key,
    ...(store.snapshotEvery === undefined ? {} : { IPC_STATE_SNAPSHOT_EVERY: String(store.snapshotEvery) }),
    ...(store.relayCalls === undefined ? {} : { IPC_STATE_RELAY_CALLS: store.relayCalls ? '1' : '0' }),
  }
}

/**
 * Starts `count` servers on `store`, with ids `server-0`, `server-1`…, and resolves once all listen;
 * `env` adds variables of the fixture (say `IPC_STATE_MAX_STATE_BYTES`).
 * @throws Error when one reports an error instead
 */
export async function startSharedServers(
  count: number,
  socketRoot: string,
  store: SharedStore,
  env: FixtureEnv = {},
): Promise<SharedServer[] & AsyncDisposable> {
  const start = async (address: FixtureAddress): Promise<FixtureProcess> => {
    const server = startFixture(fixture('servers/shared-server.ts'), {
      env: { ...addressEnv(address), ...sharedStoreEnv(store), IPC_STATE_LOG: '1', ...env },
    })
    const first = await server.waitFor((event) => event.event === 'ready' || event.event === 'error')
    if (first.event !== 'ready') throw new Error(`a shared server did not start: ${JSON.stringify(first)}`)
    return server
  }
  const servers = await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const address = fixtureAddress({ socketRoot, id: `server-${i}` })
      const server: SharedServer = {
        address,
        process: await start(address),
        async restart() {
          server.process = await start(address)
        },
      }
      return server
    }),
  )
  return Object.assign(servers, {
    [Symbol.asyncDispose]: async () => {
      await Promise.all(servers.map((server) => server.process[Symbol.asyncDispose]()))
    },
  })
}
