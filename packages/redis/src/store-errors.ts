// The errors of a store in Redis that this server cannot take: damaged, too new, gone, replaced, or behind what it served.
import { ErrorCode, IpcStateError } from '@ipc-state/protocol'
import type { CommitReply } from './connection.js'
import type { RedisStorageSettings } from './redis-options.js'

/** `STORE_DAMAGED`, naming the key (and the log entry) that holds what this storage did not write. */
export function damaged(key: string, what: string, entry?: string): IpcStateError {
  const where = entry === undefined ? `key ${key}` : `key ${key}, entry ${entry}`
  return new IpcStateError(ErrorCode.STORE_DAMAGED, `The store in Redis (${where}) cannot be used: ${what}`, {
    data: entry === undefined ? { key } : { key, entry },
  })
}

/** `STORE_TOO_NEW`: the store in Redis was migrated to a newer store version than this server runs. */
export function tooNew(settings: RedisStorageSettings, stored: number, running: number): IpcStateError {
  return new IpcStateError(
    ErrorCode.STORE_TOO_NEW,
    `The store in Redis at ${settings.safeUrl} (key ${settings.key}) was written by store version ${stored}; this server runs version ${running}`,
    { data: { stored, running } },
  )
}

/**
 * Redis holds an older version than this server served: it lost changes it had acknowledged (a
 * crash with `appendfsync everysec`, a restore from an old backup). Writing on would fork the
 * store, and running the calls again would never end: every call fails until the servers restart.
 */
export function behind(settings: RedisStorageSettings, head: number, served: number): IpcStateError {
  const message =
    `The store in Redis at ${settings.safeUrl} (key ${settings.key}) is at version ${head}, behind this server's ${served}: ` +
    'Redis lost changes it had acknowledged. Restart the servers to go on from what Redis holds'
  return new IpcStateError(ErrorCode.BACKEND_UNAVAILABLE, message, { data: { url: settings.safeUrl, version: head, served } })
}

/** The store this server loaded is gone from Redis (`stored` is `null`), or another one is there: it lost its data. */
export function lost(settings: RedisStorageSettings, meta: string, stored: string | null, loaded: string): IpcStateError {
  if (stored === null) {
    return damaged(
      meta,
      `the store this server loaded is gone from Redis at ${settings.safeUrl} (was the database flushed?); restart the servers to start a new store`,
    )
  }
  return damaged(
    meta,
    `Redis at ${settings.safeUrl} holds another store (epoch ${stored.slice(0, 40)}) than this server loaded (epoch ${loaded}): ` +
      'it lost its data and was made again; restart this server to serve the new store',
  )
}

/** The error a refusing commit reply stands for (see scripts.ts), for a server of store version `running` that loaded epoch `loaded`. */
export function refusal(
  [status, detail]: CommitReply,
  settings: RedisStorageSettings,
  keys: { meta: string; log: string },
  running: number,
  loaded: string,
): IpcStateError {
  switch (status) {
    case -1:
      return lost(settings, keys.meta, null, loaded)
    case -2:
      return damaged(keys.log, 'the last entry of the log is not one this storage wrote', String(detail))
    case -3:
      return lost(settings, keys.meta, String(detail), loaded)
    case -4:
      return tooNew(settings, Number(detail), running)
    default:
      return damaged(keys.meta, 'its version, epoch or store version is not one ipc-state wrote')
  }
}
