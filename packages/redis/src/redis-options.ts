import { numberOption } from '@ipc-state/protocol'
import type { RedisOptions } from 'ioredis'

/** Options for {@link redisStorage}. */
export interface RedisStorageOptions {
  /**
   * Where Redis listens: `redis://[user[:password]@]host[:port][/db]`, `rediss://…` for TLS, or the
   * path of a Unix socket (`/run/redis/redis.sock?password=…&username=…`). A user name and password
   * (Redis ACL) in the URL are passed on to Redis and never written to a log or an error.
   */
  url: string
  /**
   * The prefix of every key the store uses in Redis (`<key>:meta`, `<key>:log`, `<key>:snapshot`, `<key>:turn`):
   * servers given the same `url` and `key` share one store. In Redis Cluster, wrap it in braces
   * (`{my-app}`) so every key lands on one slot, as the atomic scripts need.
   * @default 'ipc-state'
   */
  key?: string
  /**
   * Versions between two snapshots of the whole store. The log is trimmed to the changes after the
   * snapshot before the latest, so Redis holds about two snapshots' worth of changes at most.
   * @default 1000
   */
  snapshotEvery?: number
  /**
   * Milliseconds a server waits for Redis at start-up before it fails with `BACKEND_UNAVAILABLE`.
   * Later outages are waited out: calls fail meanwhile, and the server resumes by itself.
   * @default 10000
   */
  connectTimeout?: number
  /**
   * Milliseconds within which the other servers learn that a server died: each server holds a lease
   * in Redis, renewed every quarter of this and running out three quarters of it after the last
   * renewal; the others look every quarter. They then leave the client instances that were connected
   * to it (`onClientLeave`, reason `server-lost`) once these have not come back to any server within
   * `leaveGrace`: between half of `serverLease` plus `leaveGrace` and `serverLease + leaveGrace` after
   * the death. A server whose event loop stalls for half of `serverLease` is taken for dead (its
   * clients, still connected, join again).
   * @default 5000
   */
  serverLease?: number
  /**
   * Whether one server, the writer (elected by a lease held for `serverLease`), runs every call,
   * the others relaying their clients' calls to it through Redis: no call is run twice when servers
   * write at once, and adding servers adds calls rather than races. `false`: each server runs its
   * own clients' calls and commits them with compare-and-append, and a server that lost a race
   * runs its calls again on top (fewer hops per call, but throughput falls as servers are added).
   * @default true
   */
  relayCalls?: boolean
  /**
   * More options for ioredis (for example `tls: { ca }` for a private certificate authority). The
   * connection's own settings (`lazyConnect`, the offline queue, resending) are the storage's.
   * @default {}
   */
  redis?: RedisOptions
}

/** {@link RedisStorageOptions} checked, with every default filled in. */
export interface RedisStorageSettings {
  url: string
  /** `url` with its password replaced by `***`: what messages show. */
  safeUrl: string
  key: string
  snapshotEvery: number
  connectTimeout: number
  serverLease: number
  relayCalls: boolean
  redis: RedisOptions
}

/**
 * Checks `options` and fills in the defaults.
 * @throws TypeError naming the option that is invalid (never showing a password)
 */
export function parseRedisStorageOptions(options: RedisStorageOptions): RedisStorageSettings {
  const url = options?.url
  if (typeof url !== 'string' || url === '')
    throw new TypeError('redisStorage: url must be a redis://, rediss:// URL or a socket path')
  const safeUrl = redactUrl(url)
  if (!url.startsWith('/') && !/^rediss?:\/\//i.test(url)) {
    throw new TypeError(`redisStorage: url must start with redis://, rediss:// or / (a Unix socket), got ${safeUrl}`)
  }
  const key = options.key ?? 'ipc-state'
  if (typeof key !== 'string' || key === '') throw new TypeError('redisStorage: key must be a non-empty string')
  return {
    url,
    safeUrl,
    key,
    snapshotEvery: numberOption('snapshotEvery', options.snapshotEvery, { fallback: 1_000, min: 1 }),
    connectTimeout: numberOption('connectTimeout', options.connectTimeout, { fallback: 10_000, min: 1 }),
    serverLease: numberOption('serverLease', options.serverLease, { fallback: 5_000, min: 10 }),
    relayCalls: booleanOption('relayCalls', options.relayCalls, true),
    redis: options.redis ?? {},
  }
}

/** `url` without its password (`***` in its place), for messages and logs. */
export function redactUrl(url: string): string {
  if (url.startsWith('/')) {
    const query = url.indexOf('?')
    if (query === -1) return url
    const params = new URLSearchParams(url.slice(query + 1))
    if (params.has('password')) params.set('password', '***')
    return `${url.slice(0, query)}?${params.toString().replaceAll('%2A', '*')}`
  }
  try {
    const parsed = new URL(url)
    if (parsed.password !== '') parsed.password = '***'
    if (parsed.searchParams.has('password')) parsed.searchParams.set('password', '***')
    return parsed.toString().replaceAll('%2A', '*')
  } catch {
    return '(a URL that does not parse)'
  }
}

/** Every secret `url` holds, to take out of a message from Redis or ioredis before it is shown. */
export function secretsOf(url: string, redis: RedisOptions): string[] {
  const secrets: string[] = []
  const query = url.indexOf('?')
  if (query !== -1) {
    const password = new URLSearchParams(url.slice(query + 1)).get('password')
    if (password) secrets.push(password)
  }
  if (!url.startsWith('/')) {
    try {
      const { password } = new URL(url)
      if (password !== '') secrets.push(password, decodeURIComponent(password))
    } catch {
      // Not a URL: nothing to take out.
    }
  }
  if (typeof redis.password === 'string' && redis.password !== '') secrets.push(redis.password)
  return secrets
}

function booleanOption(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean') throw new TypeError(`redisStorage: ${name} must be true or false`)
  return value
}
