import { randomUUID } from 'node:crypto'
import { resolveSocketPath, type SocketAddress } from '@ipc-state/protocol/node'
import type { Logger } from '@ipc-state/protocol'
import type { FsyncMode } from '@ipc-state/server'

/** The seed's address: its socket file is `/tmp/cem/ipc-ogreniyorumserver-socket`. */
export const SEED_ADDRESS = {
  socketRoot: '/tmp/cem/',
  appspace: 'ipc-ogreniyorum',
  id: 'server-socket',
} as const satisfies SocketAddress

const nonEmpty = (value: string | undefined): string | undefined => (value === undefined || value === '' ? undefined : value)

/**
 * Where the demo's server listens: the seed's address, each part overridable through
 * `IPC_STATE_SOCKET_ROOT`, `IPC_STATE_APPSPACE` and `IPC_STATE_ID`.
 */
export function demoAddress(env: NodeJS.ProcessEnv = process.env): Required<SocketAddress> {
  let socketRoot = nonEmpty(env.IPC_STATE_SOCKET_ROOT) ?? SEED_ADDRESS.socketRoot
  // node-ipc glues the parts together with nothing between them; a folder is what is meant.
  if (!socketRoot.endsWith('/')) socketRoot += '/'
  return {
    socketRoot,
    appspace: env.IPC_STATE_APPSPACE ?? SEED_ADDRESS.appspace,
    id: nonEmpty(env.IPC_STATE_ID) ?? SEED_ADDRESS.id,
  }
}

/** The socket file of {@link demoAddress}. */
export function demoSocketPath(env: NodeJS.ProcessEnv = process.env): string {
  return resolveSocketPath({ ...demoAddress(env), platform: process.platform })
}

/**
 * Where the demo's server keeps its state: in `IPC_STATE_DATA_DIR` when it is set, with the
 * durability mode from `IPC_STATE_FSYNC` (`always`, `interval` or `off`; default `interval`), and in
 * memory when it is not.
 * @throws TypeError when `IPC_STATE_FSYNC` names no mode
 */
export function demoStorage(env: NodeJS.ProcessEnv = process.env): { dir: string; fsync: FsyncMode } | undefined {
  const dir = nonEmpty(env.IPC_STATE_DATA_DIR)
  if (dir === undefined) return undefined
  const fsync = nonEmpty(env.IPC_STATE_FSYNC) ?? 'interval'
  if (fsync !== 'always' && fsync !== 'interval' && fsync !== 'off') {
    throw new TypeError(`IPC_STATE_FSYNC must be always, interval or off, not ${JSON.stringify(fsync)}`)
  }
  return { dir, fsync }
}

/**
 * Where the demo's server keeps its state when it shares it with other servers through Redis: at
 * `IPC_STATE_REDIS_URL` when it is set, under the key prefix `IPC_STATE_REDIS_KEY`
 * (default `ipc-state:demo`).
 * @throws TypeError when `IPC_STATE_DATA_DIR` is set too: a store lives in one place
 */
export function demoRedis(env: NodeJS.ProcessEnv = process.env): { url: string; key: string } | undefined {
  const url = nonEmpty(env.IPC_STATE_REDIS_URL)
  if (url === undefined) return undefined
  if (nonEmpty(env.IPC_STATE_DATA_DIR) !== undefined) {
    throw new TypeError('Set IPC_STATE_REDIS_URL or IPC_STATE_DATA_DIR, not both: the state lives in Redis or in a folder')
  }
  return { url, key: nonEmpty(env.IPC_STATE_REDIS_KEY) ?? 'ipc-state:demo' }
}

/**
 * How long the demo's server waits for a client process whose connection was lost before it takes
 * it off the list of clients connected: `IPC_STATE_LEAVE_GRACE` in milliseconds, or the server's
 * default (5 s) when it is unset.
 * @throws TypeError when `IPC_STATE_LEAVE_GRACE` is not a whole number of milliseconds
 */
export function demoLeaveGrace(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const text = nonEmpty(env.IPC_STATE_LEAVE_GRACE)
  if (text === undefined) return undefined
  const value = Number(text)
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`IPC_STATE_LEAVE_GRACE must be a whole number of milliseconds, not ${JSON.stringify(text)}`)
  }
  return value
}

const LEVELS = ['debug', 'info', 'warn', 'error'] as const
type Level = (typeof LEVELS)[number]

/**
 * A logger that writes the library's log lines to stderr, from `IPC_STATE_LOG` upwards
 * (`debug`, `info`, `warn`, `error`, or `silent`).
 * @default `warn`
 */
export function demoLogger(env: NodeJS.ProcessEnv = process.env): Logger {
  const wanted = nonEmpty(env.IPC_STATE_LOG) ?? 'warn'
  if (wanted === 'silent') return {}
  const from = LEVELS.indexOf(wanted as Level)
  const logger: Logger = {}
  for (const level of LEVELS.slice(from === -1 ? 2 : from)) {
    logger[level] = (message, details) =>
      console.error(`${level}: ${message}${details === undefined ? '' : ` ${JSON.stringify(details)}`}`)
  }
  return logger
}

/** The message an error is printed with: its code, when it has one, then its message. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    return typeof code === 'string' ? `[${code}] ${error.message}` : error.message
  }
  return String(error)
}

/**
 * Reads a whole-number command-line option.
 * @throws TypeError naming the option when `text` is not an integer of at least `min`
 */
export function integerOption(name: string, text: string | undefined, min: number): number {
  const value = Number(text)
  if (text === undefined || text.trim() === '' || !Number.isSafeInteger(value) || value < min) {
    throw new TypeError(`--${name} must be an integer of at least ${min}, got ${JSON.stringify(text)}`)
  }
  return value
}

/**
 * A client id for one demo process. The server tells callers apart by it, and answers a call it
 * has seen from that id before from its record, so no two processes may share one.
 */
export function demoClientId(role: string): string {
  return `${role}-${randomUUID().slice(0, 8)}`
}

/** `1 message`, `5 messages`. */
export const plural = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? '' : 's'}`

/** The command-line arguments, without the `--` that `pnpm run script -- …` passes along. */
export function cliArgs(argv: readonly string[] = process.argv): string[] {
  const args = argv.slice(2)
  return args[0] === '--' ? args.slice(1) : args
}
