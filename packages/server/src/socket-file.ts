import { chmod, lstat, mkdir, unlink } from 'node:fs/promises'
import { connect } from 'node:net'
import { dirname } from 'node:path'
import { ErrorCode, IpcStateError } from '@ipc-state/protocol'

/**
 * Makes sure the folder that holds the socket exists and is safe: created with mode 0700 when
 * missing; refused when another user owns it or others may write to it, since whoever can write
 * there can replace the socket. `/tmp`-like folders with the sticky bit set are accepted.
 */
export async function prepareSocketRoot(socketPath: string, allowUnsafe: boolean): Promise<void> {
  const root = dirname(socketPath)
  await mkdir(root, { recursive: true, mode: 0o700 })
  if (allowUnsafe || process.platform === 'win32') return
  const stats = await lstat(root)
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

/**
 * Claims `path` for a new server. A live server there fails with `ADDRESS_IN_USE`; a stale socket
 * (nothing answers) is removed; anything that is not a socket is left alone and refused.
 */
export async function claimSocketPath(path: string): Promise<void> {
  if (process.platform === 'win32') return
  let stats
  try {
    stats = await lstat(path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
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
  await unlink(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error
  })
}

/** Restricts the socket file to its owner, unless the caller chose a wider mode. */
export async function setSocketMode(path: string, mode: number): Promise<void> {
  if (process.platform === 'win32') return
  await chmod(path, mode)
}

/** The inode of the socket file at `path`, to recognise it later. */
export async function socketInode(path: string): Promise<number | undefined> {
  if (process.platform === 'win32') return undefined
  return (await lstat(path)).ino
}

/**
 * Removes the socket file if it is still the one this server created. Node removes it on close
 * already; this covers the cases where it could not, without touching a newer server's socket.
 */
export async function removeSocketFile(path: string, inode: number | undefined): Promise<void> {
  if (inode === undefined) return
  try {
    const stats = await lstat(path)
    if (stats.isSocket() && stats.ino === inode) await unlink(path)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
}
