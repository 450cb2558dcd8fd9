import { randomBytes } from 'node:crypto'
import { chmod, link, lstat, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { dirname, join } from 'node:path'
import {
  ErrorCode,
  IpcStateError,
  maxUnixSocketPathBytes,
  toIpcStateError,
} from '@ipc-state/protocol'

/**
 * Makes sure the folder that holds the socket exists and is safe: created with mode 0700 when
 * missing; refused when another user owns it or others may write to it, since whoever can write
 * there can replace the socket. `/tmp`-like folders with the sticky bit set are accepted.
 */
export async function prepareSocketRoot(socketPath: string, allowUnsafe: boolean): Promise<void> {
  const root = dirname(socketPath)
  let stats
  try {
    await mkdir(root, { recursive: true, mode: 0o700 })
    stats = await lstat(root)
  } catch (error) {
    throw new IpcStateError(
      ErrorCode.LISTEN_FAILED,
      `Cannot create the socket folder ${root}: ${(error as Error).message}`,
      { cause: error, data: { socketRoot: root } },
    )
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
}

/** Whether a server answers at `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect({ path })
    probe.once('connect', () => {
      probe.destroy()
      resolve(true)
    })
    probe.once('error', () => resolve(false))
  })
}

const isErrno = (error: unknown, code: string): boolean => (error as NodeJS.ErrnoException).code === code

/** Whether process `pid` is alive (a process we may not signal is alive too). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return isErrno(error, 'EPERM')
  }
}

/**
 * Takes `<path>.lock`, holding this process's pid, so that two servers starting at once cannot
 * both decide the socket is stale and remove each other's. A lock left by a dead process is taken
 * over; one held by a live process means another server is starting there.
 */
async function lock(path: string): Promise<() => Promise<void>> {
  const lockPath = `${path}.lock`
  // Written in full under a private name first, then linked into place: link() fails if the lock
  // exists, and nobody ever sees a lock without its pid.
  const draft = `${lockPath}.${process.pid}.${randomBytes(4).toString('hex')}`
  await writeFile(draft, String(process.pid), { mode: 0o600 })
  try {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await link(draft, lockPath)
        return () => unlink(lockPath).catch(() => undefined)
      } catch (error) {
        if (!isErrno(error, 'EEXIST')) throw error
      }
      const content = await readFile(lockPath, 'utf8').catch(() => undefined)
      if (content === undefined) continue // released meanwhile: try again
      const holder = Number.parseInt(content, 10)
      if (Number.isSafeInteger(holder) && holder > 0 && isAlive(holder)) break
      await unlink(lockPath).catch(() => undefined)
    }
  } finally {
    await unlink(draft).catch(() => undefined)
  }
  throw new IpcStateError(ErrorCode.ADDRESS_IN_USE, `Another server is starting at ${path} (it holds ${lockPath})`, {
    data: { path },
  })
}

/**
 * Makes `path` free for a new server. A live server there fails with `ADDRESS_IN_USE`; a stale
 * socket (nothing answers) is removed; anything that is not a socket is left alone and refused.
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
  if (await answers(path)) {
    throw new IpcStateError(ErrorCode.ADDRESS_IN_USE, `A server already answers at ${path}`, { data: { path } })
  }
  await unlink(path).catch((error: unknown) => {
    if (!isErrno(error, 'ENOENT')) throw error
  })
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
