// A process that takes the lock and holds it until it is killed or told to exit. Requests:
// - `acquire`: waits until it holds the lock, then reports {at}: the wall-clock ms it got it;
// - `exit`: gives the lock back as a clean exit does (ipc-state: `close()`, which says goodbye;
//   Redis: `DEL` of its own key) and exits.
// ipc-state waits for the lock to be free on its replica (`waitFor`), with no polling; Redis takes
// it with `SET lock id NX PX 1000`, tried every 50 ms, and renews its lease every 250 ms while it lives.
import { randomUUID } from 'node:crypto'
import type { Address, LockClientConfig } from './configs.js'
import { wallClock } from './workloads.js'
import { emit, serveRequests, workerConfig } from './worker-io.js'

/** The lease a Redis holder takes, and how often a Redis waiter tries and a holder renews. */
export const REDIS_LEASE_MS = 1_000
const REDIS_RETRY_MS = 50
const REDIS_RENEW_MS = 250

interface Lock {
  acquire(): Promise<void>
  exit(): Promise<void>
}

async function ipcStateLock(address: Extract<Address, { kind: 'ipc-state' }>): Promise<Lock> {
  const { connect } = await import('@ipc-state/client')
  const client = await connect<import('../stores/lock-store.js').LockStore>({
    socketRoot: address.socketRoot,
    appspace: address.appspace,
    id: address.id,
  })
  return {
    async acquire() {
      for (;;) {
        await client.waitFor((state) => state.holder === null)
        if ((await client.actions.acquire()) !== null) return
      }
    },
    exit: () => client.close(),
  }
}

async function redisLock(path: string): Promise<Lock> {
  const { Redis } = await import('ioredis')
  const redis = new Redis({ path })
  const id = randomUUID()
  let renew: ReturnType<typeof setInterval> | undefined
  const ifMine = (command: string) => `if redis.call('get', KEYS[1]) == ARGV[1] then return ${command} else return 0 end`
  return {
    async acquire() {
      while ((await redis.set('lock', id, 'PX', REDIS_LEASE_MS, 'NX')) !== 'OK') {
        await new Promise((resolve) => setTimeout(resolve, REDIS_RETRY_MS))
      }
      renew = setInterval(
        () => void redis.eval(ifMine(`redis.call('pexpire', KEYS[1], ARGV[2])`), 1, 'lock', id, REDIS_LEASE_MS),
        REDIS_RENEW_MS,
      )
    },
    async exit() {
      clearInterval(renew)
      await redis.eval(ifMine(`redis.call('del', KEYS[1])`), 1, 'lock', id)
      redis.disconnect()
    },
  }
}

const config = workerConfig<LockClientConfig>()
const lock =
  config.address.kind === 'ipc-state'
    ? await ipcStateLock(config.address)
    : await redisLock((config.address as { path: string }).path)
serveRequests(
  async (request) => {
    switch (request.cmd) {
      case 'acquire':
        await lock.acquire()
        return { at: wallClock() }
      case 'exit':
        await lock.exit()
        setImmediate(() => process.exit(0))
        return {}
      default:
        throw new Error(`unknown request ${request.cmd}`)
    }
  },
  () => process.exit(0),
)
emit('ready')
