// The socket's folder and file: the default folder, its safety checks, listening at the path and removing the socket.
import { randomBytes } from 'node:crypto'
import { lstatSync, type Stats } from 'node:fs'
import { chmod, lstat, mkdir, realpath, rename, unlink } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { ErrorCode, IpcStateError, toIpcStateError } from '@ipc-state/protocol'
import { maxUnixSocketPathBytes, localSocketRoot as socketRootOf } from '@ipc-state/protocol/node'
import { isErrno, lock, refuseForeign } from './lock-file.js'

/** The socket folder when the options name none: the one the client finds too, from this process. */
export function localSocketRoot(): string {
  return socketRootOf({ process, lstatSync, tmpdir })
}

/** What makes folder `stats` unsafe to hold a socket of user `uid`'s, if anything. */
function folderProblem(stats: Stats, uid: number): string | undefined {
  if (stats.uid !== uid && stats.uid !== 0) return `it belongs to user ${stats.uid}, not to this process (user ${uid}) or root`
  // A symbolic link's own mode means nothing; where it leads is checked on its own.
  if (stats.isSymbolicLink()) return undefined
  if (!stats.isDirectory()) return 'it is not a directory'
  const sticky = (stats.mode & 0o1000) !== 0
  if ((stats.mode & 0o022) !== 0 && !sticky) return `others can write to it (mode ${(stats.mode & 0o777).toString(8)})`
  return undefined
}

/** Every folder above `path`, nearest first, up to the file system's root. */
function parentsOf(path: string): string[] {
  const parents: string[] = []
  for (let current = path, parent = dirname(current); parent !== current; current = parent, parent = dirname(current)) {
    parents.push(parent)
  }
  return parents
}

/**
 * The first folder above `root` (as given, and as its symbolic links resolve) that another user
 * could use to swap `root` for a folder of theirs: one they own, or one they may write to without
 * the sticky bit. Owned by root or this user, and writable only by its owner (or sticky, as `/tmp`
 * is), each is safe.
 */
export async function unsafeParent(root: string, uid: number): Promise<{ folder: string; problem: string } | undefined> {
  const folders = new Set([...parentsOf(resolve(root)), ...parentsOf(await realpath(root))])
  for (const folder of folders) {
    const problem = folderProblem(await lstat(folder), uid)
    if (problem !== undefined) return { folder, problem }
  }
  return undefined
}

/**
 * Makes sure the folder that holds the socket exists and is safe: created with mode 0700 when
 * missing; refused when another user owns it or others may write to it, since whoever can write
 * there can replace the socket. `/tmp`-like folders with the sticky bit set are accepted. Every
 * folder above it must be safe in the same way (a symbolic link among them must belong to root
 * or this user), since whoever can write to one of those can replace the folder itself.
 */
export async function prepareSocketRoot(socketPath: string, allowUnsafe: boolean): Promise<void> {
  const root = dirname(socketPath)
  let stats
  try {
    await mkdir(root, { recursive: true, mode: 0o700 })
    stats = await lstat(root)
  } catch (error) {
    throw new IpcStateError(ErrorCode.LISTEN_FAILED, `Cannot create the socket folder ${root}: ${(error as Error).message}`, {
      cause: error,
      data: { socketRoot: root },
    })
  }
  if (allowUnsafe) return
  const uid = process.getuid?.()
  const sticky = (stats.mode & 0o1000) !== 0
  const problem = !stats.isDirectory()
    ? 'it is not a directory'
    : uid !== undefined && stats.uid !== uid && stats.uid !== 0
      ? `it belongs to user ${stats.uid}, not to this process (user ${uid})`
      : (stats.mode & 0o022) !== 0 && !sticky
        ? `others can write to it (mode ${(stats.mode & 0o777).toString(8)})`
        : undefined
  if (problem !== undefined) {
    throw new IpcStateError(
      ErrorCode.UNSAFE_SOCKET_ROOT,
      `Refusing socket folder ${root}: ${problem}. Fix its owner or mode, or pass allowUnsafeSocketRoot: true.`,
      { data: { socketRoot: root } },
    )
  }
  if (uid === undefined) return
  const parent = await unsafeParent(root, uid)
  if (parent !== undefined) {
    throw new IpcStateError(
      ErrorCode.UNSAFE_SOCKET_ROOT,
      `Refusing socket folder ${root}: the folder ${parent.folder} above it is unsafe: ${parent.problem}. ` +
        'Whoever can write there can replace the socket folder. Choose a socketRoot under safe folders, ' +
        'fix the owner or mode, or pass allowUnsafeSocketRoot: true.',
      { data: { socketRoot: root, folder: parent.folder } },
    )
  }
}

/** What a connection attempt says about the socket at a path. */
type Probe = { state: 'live' } | { state: 'stale' } | { state: 'gone' } | { state: 'busy'; reason: string }

/** How long a liveness probe may take before the server there counts as busy, not gone. */
const PROBE_TIMEOUT_MS = 2_000

/**
 * Connects to `path` once. Only a refused connection means nobody listens: a server whose backlog
 * is full (EAGAIN), one too busy to accept in time, or any other error means the socket is in use.
 */
function probe(path: string): Promise<Probe> {
  return new Promise((resolve) => {
    const socket = connect({ path })
    const done = (result: Probe) => {
      clearTimeout(timer)
      socket.destroy()
      resolve(result)
    }
    const timer = setTimeout(() => done({ state: 'busy', reason: `no answer within ${PROBE_TIMEOUT_MS} ms` }), PROBE_TIMEOUT_MS)
    socket.once('connect', () => done({ state: 'live' }))
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ECONNREFUSED') done({ state: 'stale' })
      else if (error.code === 'ENOENT') done({ state: 'gone' })
      else done({ state: 'busy', reason: error.code ?? error.message })
    })
  })
}

/**
 * Makes `path` free for a new server. A live or busy server there fails with `ADDRESS_IN_USE`; a
 * stale socket (its connection refused) is removed; anything that is not a socket, or that another
 * user owns, is left alone and refused.
 */
async function clearStale(path: string): Promise<void> {
  let stats
  try {
    stats = await lstat(path)
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return
    throw error
  }
  if (!stats.isSocket()) {
    throw new IpcStateError(
      ErrorCode.NOT_A_SOCKET,
      `${path} exists and is not a socket; it was left untouched. Remove it or choose another id.`,
      { data: { path } },
    )
  }
  refuseForeign(path, stats.uid, 'The socket')
  const found = await probe(path)
  if (found.state === 'live') {
    throw new IpcStateError(ErrorCode.ADDRESS_IN_USE, `A server already answers at ${path}`, { data: { path } })
  }
  if (found.state === 'busy') {
    throw new IpcStateError(
      ErrorCode.ADDRESS_IN_USE,
      `A server at ${path} did not accept a connection (${found.reason}) but did not refuse one either: it is busy, not gone, and was left in place`,
      { data: { path, reason: found.reason } },
    )
  }
  // Under the lock nobody else clears or claims this path, so the stale file is still the one seen.
  if (found.state === 'stale') {
    await unlink(path).catch((error: unknown) => {
      if (!isErrno(error, 'ENOENT')) throw error
    })
  }
}

/** A sibling name to listen on before the socket is moved into place, if one fits in `sun_path`. */
function temporaryName(path: string): string {
  const temporary = join(dirname(path), `.${randomBytes(6).toString('hex')}.sock`)
  return Buffer.byteLength(temporary) <= maxUnixSocketPathBytes(process.platform) ? temporary : path
}

/** A socket claimed at its path. */
export interface ClaimedSocket<T> {
  server: T
  /** The socket file's inode, to recognise it when removing it later. */
  inode: number
}

/**
 * Claims `path` and listens there. Under a lock: refuses a live server or a non-socket, removes a
 * stale socket, listens on a temporary sibling name, sets the file's mode and renames it into place.
 * Node removes a listening socket's file by name when it closes; after the rename that name is
 * the temporary one, so closing never deletes a socket another server has put at `path` since.
 */
export async function claimAndListen<T extends { close(): Promise<void> }>(
  path: string,
  mode: number,
  listen: (path: string) => Promise<T>,
): Promise<ClaimedSocket<T>> {
  const unlock = await lock(path)
  try {
    await clearStale(path)
    const listenPath = temporaryName(path)
    const server = await listen(listenPath)
    try {
      await chmod(listenPath, mode)
      if (listenPath !== path) await rename(listenPath, path)
      return { server, inode: (await lstat(path)).ino }
    } catch (error) {
      await server.close()
      await unlink(listenPath).catch(() => undefined)
      throw toIpcStateError(error, ErrorCode.LISTEN_FAILED)
    }
  } finally {
    await unlock()
  }
}

/** Removes the socket file if it is still the one this server created. */
export async function removeSocketFile(path: string, inode: number | undefined): Promise<void> {
  if (inode === undefined) return
  try {
    const stats = await lstat(path)
    if (stats.isSocket() && stats.ino === inode) await unlink(path)
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw error
  }
}
