import { ErrorCode, IpcStateError } from './errors.js'
import { utf8ByteLength } from './frame.js'

/** Where a server listens, named as node-ipc names it. */
export interface SocketAddress {
  /**
   * The folder holding the socket, with its trailing slash: node-ipc joins the three parts with
   * nothing between them.
   * @default '/tmp/'
   */
  socketRoot?: string
  /**
   * A prefix shared by the processes of one application.
   * @default 'app.'
   */
  appspace?: string
  /** The server's id. */
  id: string
}

/** node-ipc's defaults for the parts of a socket path. */
export const DEFAULT_SOCKET_ROOT = '/tmp/'
export const DEFAULT_APPSPACE = 'app.'

/**
 * The longest Unix socket path in bytes, without its terminating NUL: `sun_path` holds 108 bytes
 * on Linux and 104 on macOS and the BSDs.
 */
export function maxUnixSocketPathBytes(platform: string): number {
  return platform === 'linux' || platform === 'android' ? 107 : 103
}

/** Options for {@link resolveSocketPath}. */
export interface ResolveSocketPathOptions extends SocketAddress {
  /**
   * The platform to derive the path for, as `process.platform` names it.
   * @default 'linux'
   */
  platform?: string
}

/**
 * Derives the socket path exactly as node-ipc 12 does: `socketRoot + appspace + id`; on Windows,
 * the named pipe `\\.\pipe\` followed by that path with its leading slash dropped and every other
 * slash turned into `-`.
 *
 * @throws TypeError when `id` is empty or a part is not a string or holds a NUL character
 * @throws IpcStateError `PATH_TOO_LONG` when a Unix socket path exceeds what the platform allows
 */
export function resolveSocketPath(options: ResolveSocketPathOptions): string {
  const { socketRoot = DEFAULT_SOCKET_ROOT, appspace = DEFAULT_APPSPACE, id, platform = 'linux' } = options
  for (const [name, value] of [['socketRoot', socketRoot], ['appspace', appspace], ['id', id]] as const) {
    if (typeof value !== 'string') throw new TypeError(`${name} must be a string, got ${typeof value}`)
    if (value.includes('\0')) throw new TypeError(`${name} must not contain a NUL character`)
  }
  if (id.length === 0) throw new TypeError('id must be a non-empty string')
  const path = socketRoot + appspace + id
  if (platform === 'win32') {
    if (path.startsWith('\\\\.\\pipe\\')) return path
    return `\\\\.\\pipe\\${path.replace(/^\//, '').replace(/\//g, '-')}`
  }
  const max = maxUnixSocketPathBytes(platform)
  const bytes = utf8ByteLength(path)
  if (bytes > max) {
    throw new IpcStateError(
      ErrorCode.PATH_TOO_LONG,
      `Socket path ${path} is ${bytes} bytes; Unix sockets on ${platform} allow at most ${max}. ` +
        'Choose a shorter socketRoot, appspace or id.',
      { data: { path, bytes, max } },
    )
  }
  return path
}

/**
 * Returns a warning when `socketRoot` does not end with a path separator, `undefined` otherwise.
 * node-ipc joins the parts with nothing between them, so `/tmp/app` puts the socket at
 * `/tmp/appapp.id`, beside the folder that was meant.
 */
export function socketRootWarning(socketRoot: string | undefined): string | undefined {
  if (socketRoot === undefined || socketRoot === '' || socketRoot.endsWith('/') || socketRoot.endsWith('\\')) return undefined
  return (
    `socketRoot ${JSON.stringify(socketRoot)} does not end with a path separator: node-ipc joins ` +
    `socketRoot, appspace and id with nothing between them, so the socket is not inside that folder. ` +
    `Add a trailing "/" if a folder was meant.`
  )
}
