import { readFileSync } from 'node:fs'
import { lstat, mkdir, readFile, readdir, stat } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { ErrorCode, IpcStateError, type Logger } from '@ipc-state/protocol'
import { lockFile } from './start-up-lock.js'

// The files of a data folder: `store.lock`, `journal-<seq>.log` and `snapshot-<seq>.json`, where
// `<seq>` is a segment number of 12 digits; `snapshot-N` is the store at the start of segment N.

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
 * Creates `dir` (mode 0700) when missing, and refuses one that is no folder, belongs to another
 * user or that others may write to: whoever can write there can change the state the server
 * starts from.
 * @throws IpcStateError `STORE_LOCKED` when the folder is not this user's alone
 */
export async function prepareDataFolder(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const stats = await lstat(dir)
  const uid = process.getuid?.()
  const problem = !stats.isDirectory()
    ? 'it is not a directory'
    : uid !== undefined && stats.uid !== uid
      ? `it belongs to user ${stats.uid}, not to this process (user ${uid})`
      : (stats.mode & 0o022) !== 0
        ? `others can write to it (mode ${(stats.mode & 0o777).toString(8)})`
        : undefined
  if (problem !== undefined) {
    throw new IpcStateError(
      ErrorCode.STORE_LOCKED,
      `Refusing data folder ${dir}: ${problem}. Fix its owner or mode, or choose another dir.`,
      {
        data: { dir },
      },
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
 * Takes the folder, so one server at a time owns it, whatever its socket path. `store.lock` holds
 * the owner's pid and start time, and a lock left by a process that died is reclaimed. On Linux the
 * owner also holds an abstract socket named after the folder, which the kernel releases when the
 * process dies and which needs no disk: a server can then start on a full disk, and serve reads.
 * @returns a function that releases it
 * @throws IpcStateError `STORE_LOCKED` while another live process holds it
 */
export async function lockDataFolder(dir: string, logger: Logger): Promise<() => Promise<void>> {
  const lockPath = join(dir, 'store.lock')
  const releaseName = await lockName(dir, lockPath)
  try {
    const releaseFile = await lockFile(lockPath, {
      what: 'The data folder lock',
      foreign: { code: ErrorCode.STORE_LOCKED, instead: 'choose another dir' },
      held: (path, holder) => storeLocked(dir, path, holder),
    })
    return async () => {
      await releaseFile()
      await releaseName?.()
    }
  } catch (error) {
    if (releaseName !== undefined && noSpace(error)) {
      logger.warn?.('no room for store.lock: the folder is owned through its lock socket alone', { dir })
      return releaseName
    }
    await releaseName?.()
    throw error
  }
}

/** Binds the abstract socket named after `dir` (Linux); `undefined` elsewhere. */
async function lockName(dir: string, lockPath: string): Promise<(() => Promise<void>) | undefined> {
  if (process.platform !== 'linux') return undefined
  const { dev, ino } = await stat(dir)
  const server = createServer((socket) => socket.destroy())
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(`\0ipc-state/store/${dev}/${ino}`, resolve)
    })
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error
    // Its pid, for the message, from the lock file it most likely wrote.
    const holder = (await readFile(lockPath, 'utf8').catch(() => '')).trim().split(' ')[0] ?? ''
    throw storeLocked(dir, lockPath, /^\d+$/.test(holder) ? holder : '')
  }
  server.unref()
  return () => new Promise((resolve) => server.close(() => resolve()))
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
