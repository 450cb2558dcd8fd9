import { ErrorCode, IpcStateError, type Logger } from '@ipc-state/protocol'
import { Redis } from 'ioredis'
import type { StreamEntry } from './log-entries.js'
import type { RedisStorageSettings } from './redis-options.js'
import { secretsOf } from './redis-options.js'

/** What the commit script answers (see scripts.ts). */
export type CommitReply = [
  status: -5 | -4 | -3 | -2 | -1 | 0 | 1 | 2,
  version: number,
  seq: number,
  snapshot: number,
  missed?: StreamEntry[],
  before?: string,
]

/** The scripts a connection runs, as ioredis defines them on it. */
export interface ScriptCommands {
  ipcStateCommit(
    meta: string,
    log: string,
    turn: string,
    writer: string,
    calls: string,
    ...args: (string | number)[]
  ): Promise<CommitReply>
  ipcStateInit(
    meta: string,
    snapshot: string,
    log: string,
    epoch: string,
    storeVersion: number,
    initial: Buffer,
  ): Promise<(string | null)[]>
  ipcStatePermissions(meta: string, log: string, snapshot: string, turn: string, lease: string): Promise<string[]>
  ipcStateSnapshot(
    meta: string,
    snapshot: string,
    log: string,
    version: number,
    image: Buffer,
    epoch: string,
    storeVersion: number,
  ): Promise<number>
}

/** A connection to Redis with the store's scripts. */
export type Connection = Redis & ScriptCommands

/**
 * Makes a connection, not connected yet. Commands never wait for Redis, nor are sent twice: one
 * sent while Redis is unreachable fails at once, and one under way when the connection drops fails
 * then (the commit script is safe to send again anyway: it checks the version). `follower` is the
 * connection that blocks on the log: its reads wait while reconnecting.
 */
export function createConnection(
  settings: RedisStorageSettings,
  follower: boolean,
  scripts: Record<string, { numberOfKeys: number; lua: string }>,
): Connection {
  const redis = new Redis(settings.url, {
    ...settings.redis,
    lazyConnect: true,
    enableOfflineQueue: follower,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectTimeout: settings.connectTimeout,
    connectionName: follower ? 'ipc-state-follower' : 'ipc-state',
    // Reconnect quickly at first, then every second: an outage ends by itself.
    retryStrategy: (times) => Math.min(25 * 2 ** times, 1_000),
  })
  for (const [name, script] of Object.entries(scripts)) redis.defineCommand(name, script)
  return redis as Connection
}

/** `message` with every secret of the settings' URL taken out. */
export function scrub(settings: RedisStorageSettings, message: string): string {
  let scrubbed = message
  for (const secret of secretsOf(settings.url, settings.redis)) scrubbed = scrubbed.split(secret).join('***')
  return scrubbed
}

const AUTH_REFUSED = /WRONGPASS|NOAUTH|invalid password|invalid username-password/i
/**
 * Redis knows the user but its ACL does not let it run a command or reach a key (inside a script,
 * Redis says so in other words).
 */
const PERMISSION_REFUSED = /NOPERM|user executing the script can't run this command/

/** Whether Redis refused `error`'s command for want of a permission. */
export const isNotPermitted = (error: unknown): boolean =>
  PERMISSION_REFUSED.test(error instanceof Error ? error.message : String(error))

/** `BACKEND_UNAVAILABLE` for a user whose ACL lacks what the storage needs: `missing` names it. */
export function notPermitted(settings: RedisStorageSettings, doing: string, missing: string): IpcStateError {
  return new IpcStateError(
    ErrorCode.BACKEND_UNAVAILABLE,
    `Redis at ${settings.safeUrl} does not permit the user the storage connects as to run what it needs, while ${doing}: ${missing}. ` +
      `Grant it to that user (ACL SETUSER) on the keys ${settings.key}:*`,
    { data: { url: settings.safeUrl, reason: 'permission', missing } },
  )
}

/** The commands the storage needs that Redis does not permit its user, as a message says them (`''`: none). */
export async function missingPermissions(redis: Connection, keys: PermissionKeys): Promise<string> {
  const missing = await redis.ipcStatePermissions(keys.meta, keys.log, keys.snapshot, keys.turn, keys.lease)
  return missing.length === 0 ? '' : `no permission for ${missing.join(', ')}`
}

/** `BACKEND_UNAVAILABLE` for a command Redis did not permit: naming what the user lacks, when Redis can tell. */
export async function permissionError(
  redis: Connection,
  keys: PermissionKeys,
  settings: RedisStorageSettings,
  doing: string,
  error: unknown,
): Promise<IpcStateError> {
  const missing = await missingPermissions(redis, keys).catch(() => '')
  return missing === '' ? unavailable(settings, doing, error) : notPermitted(settings, doing, missing)
}

/** The keys whose permissions {@link missingPermissions} checks. */
interface PermissionKeys {
  meta: string
  log: string
  snapshot: string
  turn: string
  lease: string
}

/**
 * The error a call gets while Redis does not answer: `BACKEND_UNAVAILABLE`, naming the URL without
 * its password. The original error is not kept as `cause`: ioredis's errors carry the command and
 * its arguments, which for AUTH hold the password.
 */
export function unavailable(settings: RedisStorageSettings, doing: string, error: unknown): IpcStateError {
  const reason = scrub(settings, error instanceof Error ? error.message : String(error))
  if (PERMISSION_REFUSED.test(reason)) return notPermitted(settings, doing, reason)
  if (AUTH_REFUSED.test(reason)) {
    return new IpcStateError(
      ErrorCode.BACKEND_UNAVAILABLE,
      `Redis at ${settings.safeUrl} refused the user name or password given for it, while ${doing}: ${reason}`,
      { data: { url: settings.safeUrl, reason: 'auth' } },
    )
  }
  return new IpcStateError(
    ErrorCode.BACKEND_UNAVAILABLE,
    `Redis at ${settings.safeUrl} could not be reached while ${doing}: ${reason}`,
    {
      data: { url: settings.safeUrl },
    },
  )
}

/**
 * Connects, or fails with `BACKEND_UNAVAILABLE` (a wrong password, a user not permitted a command
 * the connection runs, nothing listening, no answer within `connectTimeout`) and stops trying.
 */
export async function connect(redis: Connection, settings: RedisStorageSettings): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer within ${settings.connectTimeout} ms (option connectTimeout)`)),
      settings.connectTimeout,
    )
  })
  // A refused AUTH comes as an `error` event; connect() then rejects only with "Connection is closed".
  let refused: unknown
  const onError = (error: Error) => {
    refused ??= AUTH_REFUSED.test(error.message) || PERMISSION_REFUSED.test(error.message) ? error : undefined
  }
  redis.on('error', onError)
  try {
    await Promise.race([redis.connect(), timeout])
  } catch (error) {
    redis.disconnect()
    throw unavailable(settings, 'starting', refused ?? error)
  } finally {
    clearTimeout(timer)
    redis.off('error', onError)
  }
}

/**
 * Logs when Redis stops answering (an error, or a connection that closed and is being made again)
 * and when it answers again, once each way, without secrets. An `error` listener also keeps ioredis
 * from printing errors itself.
 */
export function watchConnection(redis: Connection, settings: RedisStorageSettings, logger: Logger): void {
  let down = false
  const wentAway = (reason: string) => {
    if (down) return
    down = true
    logger.warn?.(`Redis at ${settings.safeUrl} is unreachable: calls fail with BACKEND_UNAVAILABLE until it answers again`, {
      error: reason,
    })
  }
  redis.on('error', (error: Error) => wentAway(scrub(settings, error.message)))
  // A connection that closed by itself: ioredis says so before its first try to connect again,
  // which may succeed at once (no 'error' at all) when Redis restarts quickly.
  redis.on('reconnecting', () => wentAway('the connection closed'))
  redis.on('ready', () => {
    if (!down) return
    down = false
    logger.info?.(`Redis at ${settings.safeUrl} answers again`)
  })
}
