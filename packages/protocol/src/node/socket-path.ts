// node-ipc's socket path rule and the private folder a server listens in when none is named.
import { ErrorCode, IpcStateError } from '../errors.js'
import { utf8ByteLength } from '../wire/frame.js'

/** Where a server listens, named as node-ipc names it. */
export interface SocketAddress {
  /**
   * The folder holding the socket, with its trailing slash: node-ipc joins the three parts with
   * nothing between them.
   * @default a folder of this user's own (see {@link defaultSocketRoot}): `$XDG_RUNTIME_DIR/ipc-state/`,
   *   else `<tmpdir>/ipc-state-<uid>/`; node-ipc's `'/tmp/'` on Windows
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

/**
 * node-ipc's defaults for the parts of a socket path. `createServer` and `connect` use
 * {@link defaultSocketRoot} instead of `DEFAULT_SOCKET_ROOT`, except on Windows.
 */
export const DEFAULT_SOCKET_ROOT = '/tmp/'
/** The `appspace` server and client use when given none: node-ipc's own default. */
export const DEFAULT_APPSPACE = 'app.'

/** What `lstat` found at a folder: its owner, its mode bits, and whether it is a directory. */
export interface FolderStat {
  uid: number
  mode: number
  directory: boolean
}

/** Options for {@link defaultSocketRoot}: facts about the process, read by the caller. */
export interface DefaultSocketRootOptions {
  /**
   * The platform, as `process.platform` names it.
   * @default 'linux'
   */
  platform?: string
  /** This process's user id (`process.getuid()`); `undefined` where there is none. */
  uid: number | undefined
  /** The temporary folder (`os.tmpdir()`). */
  tmpdir: string
  /** `XDG_RUNTIME_DIR`, if it is set. */
  runtimeDir?: string | undefined
  /**
   * What `lstat` says of `runtimeDir`. `runtimeDir` is used only when this shows a directory of
   * this user's that nobody else can write to.
   * @default undefined (`runtimeDir` is not used)
   */
  runtimeDirStat?: FolderStat | undefined
}

/**
 * The socket folder used when none is given: one that only this user can write to, so that no
 * other local user can put a server of theirs at the path first. `<runtimeDir>/ipc-state/` when
 * `XDG_RUNTIME_DIR` is an absolute path to this user's private folder, otherwise
 * `<tmpdir>/ipc-state-<uid>/` (the server creates it with mode 0700 and refuses it if another user
 * made it). On Windows, or without a user id, node-ipc's `'/tmp/'`: named pipes have no folder.
 *
 * Pure: the caller reads the facts (`process.getuid?.()`, `os.tmpdir()`, `process.env.XDG_RUNTIME_DIR`
 * and an `lstat` of it) and passes them in.
 *
 * @example
 * ```ts
 * defaultSocketRoot({ uid: 1000, tmpdir: '/tmp' }) // '/tmp/ipc-state-1000/'
 * ```
 */
export function defaultSocketRoot(options: DefaultSocketRootOptions): string {
  const { platform = 'linux', uid, tmpdir, runtimeDir, runtimeDirStat } = options
  if (platform === 'win32' || uid === undefined) return DEFAULT_SOCKET_ROOT
  const trimmed = (folder: string) => folder.replace(/\/+$/, '')
  // The XDG spec says a relative XDG_RUNTIME_DIR is to be ignored, and one we cannot vouch for
  // (another user's, or writable by others) is no safer than /tmp.
  const privateRuntimeDir = runtimeDirStat?.directory === true && runtimeDirStat.uid === uid && (runtimeDirStat.mode & 0o022) === 0
  if (runtimeDir?.startsWith('/') && privateRuntimeDir) return `${trimmed(runtimeDir)}/ipc-state/`
  return `${trimmed(tmpdir)}/ipc-state-${uid}/`
}

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
 * Derives the socket path exactly as node-ipc 12 does: `socketRoot + appspace + id` (`socketRoot`
 * defaulting here to node-ipc's `'/tmp/'`; `createServer` and `connect` pass {@link defaultSocketRoot}'s); on Windows,
 * the named pipe `\\.\pipe\` followed by that path with its leading slash dropped and every other
 * slash turned into `-`.
 *
 * @throws TypeError when `id` is empty or a part is not a string or holds a NUL character
 * @throws IpcStateError `PATH_TOO_LONG` when a Unix socket path exceeds what the platform allows
 */
export function resolveSocketPath(options: ResolveSocketPathOptions): string {
  const { socketRoot = DEFAULT_SOCKET_ROOT, appspace = DEFAULT_APPSPACE, id, platform = 'linux' } = options
  for (const [name, value] of [
    ['socketRoot', socketRoot],
    ['appspace', appspace],
    ['id', id],
  ] as const) {
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
