// The files of a data folder, the folder made safe to use, and its lock: one server owns it at a time.
import { closeSync, openSync, readFileSync } from 'node:fs'
import { chmod, lstat, mkdir, readFile, readdir, unlink } from 'node:fs/promises'
import { type Server, type Socket, connect, createServer } from 'node:net'
import { join } from 'node:path'
import { ErrorCode, IpcStateError, type Logger } from '@ipc-state/protocol'
import { maxUnixSocketPathBytes } from '@ipc-state/protocol/node'
import { FOLDER_FLAGS, READ_FLAGS } from '../../files/data-file.js'
import { unsafeParent } from '../../files/socket-file.js'
import { lockFile } from '../../files/lock-file.js'

// The files of a data folder: `store.sock` and `store.lock` (its owner), `journal-<seq>.log` and
// `snapshot-<seq>.json`, where `<seq>` is a segment number of 12 digits; `snapshot-N` is the store
// at the start of segment N.

const SEQ_DIGITS = 12
const JOURNAL = /^journal-(\d{12})\.log$/
const SNAPSHOT = /^snapshot-(\d{12})\.json$/

/** The journal segment `seq` of folder `dir`. */
export const journalPath = (dir: string, seq: number): string => join(dir, `journal-${String(seq).padStart(SEQ_DIGITS, '0')}.log`)

/** The snapshot of the store at the start of segment `seq`. */
export const snapshotPath = (dir: string, seq: number): string =>
  join(dir, `snapshot-${String(seq).padStart(SEQ_DIGITS, '0')}.json`)

/** The segments and snapshots a folder holds, by number, oldest first. */
export interface FolderFiles {
  journals: number[]
  snapshots: number[]
}

/** Lists the journal segments and snapshots in `dir`; other files are left alone. */
export async function listFolder(dir: string): Promise<FolderFiles> {
  const journals: number[] = []
  const snapshots: number[] = []
  for (const name of await readdir(dir)) {
    const journal = JOURNAL.exec(name)
    if (journal !== null) journals.push(Number(journal[1]))
    const snapshot = SNAPSHOT.exec(name)
    if (snapshot !== null) snapshots.push(Number(snapshot[1]))
  }
  const order = (a: number, b: number) => a - b
  return { journals: journals.sort(order), snapshots: snapshots.sort(order) }
}

/**
 * Creates `dir` (mode 0700) when missing, and refuses one that is no folder (a symbolic link
 * included), belongs to another user or that others may write to: whoever can write there can
 * change the state the server starts from. Every folder above it is checked as the socket
 * folder's are (owned by root or this user, and writable by others only with the sticky bit, as
 * `/tmp` is): whoever can write to one of those can swap the folder for a link to another.
 * @throws IpcStateError `STORE_LOCKED` when the folder is not this user's alone
 */
export async function prepareDataFolder(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const stats = await lstat(dir)
  const uid = process.getuid?.()
  const parent = stats.isDirectory() && uid !== undefined ? await unsafeParent(dir, uid) : undefined
  const problem = !stats.isDirectory()
    ? stats.isSymbolicLink()
      ? 'it is a symbolic link, not a directory'
      : 'it is not a directory'
    : uid !== undefined && stats.uid !== uid
      ? `it belongs to user ${stats.uid}, not to this process (user ${uid})`
      : (stats.mode & 0o022) !== 0
        ? `others can write to it (mode ${(stats.mode & 0o777).toString(8)})`
        : parent !== undefined
          ? `the folder ${parent.folder} above it is unsafe: ${parent.problem}; whoever can write there can swap the data folder`
          : undefined
  if (problem !== undefined) {
    throw new IpcStateError(
      ErrorCode.STORE_LOCKED,
      `Refusing data folder ${dir}: ${problem}. Fix its owner or mode, or choose another dir.`,
      { data: { dir, ...(parent === undefined ? {} : { folder: parent.folder }) } },
    )
  }
}

/** The error when another server owns folder `dir`. */
function storeLocked(dir: string, lockPath: string, holder: string): IpcStateError {
  return new IpcStateError(
    ErrorCode.STORE_LOCKED,
    `Another server${holder === '' ? '' : ` (process ${holder})`} owns the data folder ${dir}: it holds ${lockPath}. ` +
      'Stop it first, or give this server another dir.',
    { data: { dir, ...(holder === '' ? {} : { pid: Number(holder) }) } },
  )
}

const noSpace = (error: unknown): boolean => ['ENOSPC', 'EDQUOT'].includes((error as NodeJS.ErrnoException).code ?? '')

/**
 * Takes the folder, so one server at a time owns it, whatever its socket path. The owner listens
 * on the socket `store.sock` inside the folder: only this user can reach it (the folder is 0700),
 * it needs no room on the disk (a server can start on a full disk and serve reads), and a socket
 * whose owner died refuses connections, so a lock left by a kill is told from a live one.
 * `store.lock` holds the owner's pid and start time besides, for people and messages.
 * @returns a function that releases it
 * @throws IpcStateError `STORE_LOCKED` while another live process holds it
 */
export async function lockDataFolder(dir: string, logger: Logger): Promise<() => Promise<void>> {
  const lockPath = join(dir, 'store.lock')
  const releaseSocket = await lockSocket(dir, lockPath)
  try {
    const releaseFile = await lockFile(lockPath, {
      what: 'The data folder lock',
      foreign: { code: ErrorCode.STORE_LOCKED, instead: 'choose another dir' },
      held: (path, holder) => storeLocked(dir, path, holder),
    })
    return async () => {
      await releaseFile()
      await releaseSocket?.()
    }
  } catch (error) {
    if (releaseSocket !== undefined && noSpace(error)) {
      logger.warn?.('no room for store.lock: the folder is owned through its lock socket alone', { dir })
      return releaseSocket
    }
    await releaseSocket?.()
    throw error
  }
}

/** The lock socket's name in the folder. */
export const LOCK_SOCKET = 'store.sock'

/** What a connection to a lock socket says of its owner. */
type Holder = 'live' | 'dead' | 'gone'

/** Connects to the socket at `path` once: only a refused connection means its owner is dead. */
function probeSocket(path: string): Promise<Holder> {
  return new Promise((resolve) => {
    const socket = connect({ path })
    const done = (holder: Holder) => {
      socket.destroy()
      resolve(holder)
    }
    socket.once('connect', () => done('live'))
    socket.once('error', (error: NodeJS.ErrnoException) =>
      done(error.code === 'ECONNREFUSED' ? 'dead' : error.code === 'ENOENT' ? 'gone' : 'live'),
    )
  })
}

/** Connections a takeover guard holds open until it closes: a start waiting on it learns so when its own ends. */
const heldBy = new WeakMap<Server, Set<Socket>>()

/**
 * Listens on `path`; `undefined` when something is there already. A server that `holds` keeps each
 * connection open until it closes (see {@link untilReleased}); one that does not ends them at once.
 */
async function listenAt(path: string, holds = false): Promise<Server | undefined> {
  const held = new Set<Socket>()
  const server = createServer((socket) => {
    if (!holds) return void socket.destroy()
    socket.on('error', () => undefined)
    held.add(socket)
    socket.once('close', () => held.delete(socket))
  })
  heldBy.set(server, held)
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(path, resolve)
    })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') return undefined
    throw error
  }
  server.unref()
  return server
}

const closeServer = (server: Server) =>
  new Promise<void>((resolve) => {
    server.close(() => resolve())
    for (const socket of heldBy.get(server) ?? []) socket.destroy()
  })

/** Resolves once the guard at `path` lets go: the connection it holds ends, or none can be made. */
function untilReleased(path: string): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect({ path })
    socket.once('error', () => resolve())
    socket.once('close', () => resolve())
  })
}

/** How many times a start looks at a lock socket that another start is taking over. */
const LOCK_ATTEMPTS = 50

/**
 * Listens on the lock socket of `dir`. One left by a dead owner is removed under a second socket,
 * `store.sock.takeover`, that one process at a time holds: two servers that both found the lock
 * dead cannot both remove it, and nobody removes a live lock that took its place meanwhile.
 * A folder whose path is too long for a socket is reached through `/proc/self/fd` (Linux); where
 * neither works the folder is owned through `store.lock` alone.
 */
async function lockSocket(dir: string, lockPath: string): Promise<(() => Promise<void>) | undefined> {
  if (process.platform === 'win32') return undefined
  let folder: number | undefined
  let base = dir
  if (Buffer.byteLength(join(dir, `${LOCK_SOCKET}.takeover`)) > maxUnixSocketPathBytes(process.platform)) {
    if (process.platform !== 'linux') return undefined
    folder = openSync(dir, FOLDER_FLAGS)
    base = `/proc/self/fd/${folder}`
  }
  const path = join(base, LOCK_SOCKET)
  const closeFolder = () => {
    if (folder !== undefined) closeSync(folder)
  }
  try {
    for (let attempt = 0; attempt < LOCK_ATTEMPTS; attempt++) {
      const server = await listenAt(path)
      if (server !== undefined) {
        // Whatever the umask: only the owner may connect (the folder already keeps others out).
        await chmod(path, 0o600).catch(() => undefined)
        return async () => {
          // Closing removes the socket file (by the name it was bound to).
          await closeServer(server)
          closeFolder()
        }
      }
      const seen = await lstat(path).catch(() => undefined)
      if (seen === undefined) continue
      if (!seen.isSocket()) throw storeLockedBy(dir, lockPath, `${join(dir, LOCK_SOCKET)} is not a socket`)
      const holder = await probeSocket(path)
      if (holder === 'live') throw await storeLockedByHolder(dir, lockPath)
      if (holder === 'dead') await takeOverSocket(path, seen.ino)
    }
    throw await storeLockedByHolder(dir, lockPath)
  } catch (error) {
    closeFolder()
    throw error
  }
}

/** Removes the dead lock socket at `path` (inode `ino`) under the takeover socket; waits while another start holds that. */
async function takeOverSocket(path: string, ino: number): Promise<void> {
  const guardPath = `${path}.takeover`
  const guard = await listenAt(guardPath, true)
  if (guard === undefined) {
    const seen = await lstat(guardPath).catch(() => undefined)
    // Left by a start that died within its few milliseconds: nobody holds it.
    if (seen?.isSocket() && (await probeSocket(guardPath)) === 'dead') {
      if ((await lstat(guardPath).catch(() => undefined))?.ino === seen.ino) await unlink(guardPath).catch(() => undefined)
    } else {
      // Another start holds the guard for its few milliseconds: the next look follows its release.
      await untilReleased(guardPath)
    }
    return
  }
  try {
    const now = await lstat(path).catch(() => undefined)
    if (now?.ino === ino && (await probeSocket(path)) === 'dead') await unlink(path).catch(() => undefined)
  } finally {
    await closeServer(guard)
  }
}

/** `STORE_LOCKED`, naming the pid that `store.lock` holds, if it holds one. */
async function storeLockedByHolder(dir: string, lockPath: string): Promise<IpcStateError> {
  const holder = (await readFile(lockPath, { encoding: 'utf8', flag: READ_FLAGS }).catch(() => '')).trim().split(' ')[0] ?? ''
  return storeLocked(dir, lockPath, /^\d+$/.test(holder) ? holder : '')
}

/** `STORE_LOCKED` for a folder whose lock socket is in the way, for `reason`. */
function storeLockedBy(dir: string, lockPath: string, reason: string): IpcStateError {
  return new IpcStateError(
    ErrorCode.STORE_LOCKED,
    `The data folder ${dir} cannot be locked: ${reason}. Remove it, or give this server another dir.`,
    {
      data: { dir, path: lockPath },
    },
  )
}

let boot: string | undefined

/**
 * This boot of the machine: what the kernel wrote survives a process's crash but not the
 * machine's, so a journal written in this boot lost nothing it wrote. Empty where unknown.
 */
export function bootId(): string {
  if (boot === undefined) {
    try {
      boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
    } catch {
      boot = ''
    }
  }
  return boot
}
