import { readFileSync } from 'node:fs'
import { lstat, mkdir, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { ErrorCode, IpcStateError } from '@ipc-state/protocol'
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

/**
 * Takes `store.lock` in `dir`, so one server at a time owns the folder, whatever its socket path.
 * A lock left by a process that died is reclaimed.
 * @returns a function that releases it
 * @throws IpcStateError `STORE_LOCKED` while another live process holds it
 */
export function lockDataFolder(dir: string): Promise<() => Promise<void>> {
  return lockFile(join(dir, 'store.lock'), {
    what: 'The data folder lock',
    foreign: { code: ErrorCode.STORE_LOCKED, instead: 'choose another dir' },
    held: (lockPath, holder) =>
      new IpcStateError(
        ErrorCode.STORE_LOCKED,
        `Another server${holder === '' ? '' : ` (process ${holder})`} owns the data folder ${dir}: it holds ${lockPath}. ` +
          'Stop it first, or give this server another dir.',
        { data: { dir, ...(holder === '' ? {} : { pid: Number(holder) }) } },
      ),
  })
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
