// Lock files held by one live process, files other users own refused, and the safe removal of a dead holder's lock.
import { randomBytes } from 'node:crypto'
import { link, lstat, readFile, unlink, writeFile } from 'node:fs/promises'
import { ErrorCode, IpcStateError } from '@ipc-state/protocol'
import { CREATE_FLAGS, READ_FLAGS } from './data-file.js'

// The short-lived lock a starting server holds while it claims its socket path: `<path>.lock`.

export const isErrno = (error: unknown, code: string): boolean => (error as NodeJS.ErrnoException).code === code

/** The start time of process `pid` (Linux), so a recycled pid is not taken for the process that wrote a lock. */
async function startTime(pid: number): Promise<string | undefined> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined)
  // The fields after the command name, which may itself hold spaces and parentheses.
  return stat?.slice(stat.lastIndexOf(')') + 2).split(' ')[19]
}

/** Whether the process that wrote lock content `content` still runs (one we may not signal does too). */
async function holderAlive(content: string): Promise<boolean> {
  const [pidText, started] = content.trim().split(' ')
  const pid = Number.parseInt(pidText ?? '', 10)
  if (!Number.isSafeInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
  } catch (error) {
    if (!isErrno(error, 'EPERM')) return false
  }
  if (started === undefined) return true
  const now = await startTime(pid)
  return now === undefined || now === started
}

/**
 * Refuses a file at `path` that another user owns: it is theirs to remove, not ours.
 * @throws IpcStateError `code` (default `ADDRESS_IN_USE`)
 */
export function refuseForeign(
  path: string,
  uid: number,
  what: string,
  { code = ErrorCode.ADDRESS_IN_USE, instead = 'choose another socketRoot or id' }: { code?: ErrorCode; instead?: string } = {},
): void {
  const own = process.getuid?.()
  if (own === undefined || uid === own) return
  throw new IpcStateError(
    code,
    `${what} ${path} belongs to user ${uid}, not to this process (user ${own}); it was left untouched. ` +
      `Remove it as that user, or ${instead}.`,
    { data: { path, owner: uid } },
  )
}

/** A takeover guard older than this was left by a process that died inside its few milliseconds. */
const ABANDONED_GUARD_MS = 10_000

/**
 * Removes the stale lock at `lockPath` (inode `ino`, content `content`) under a guard file that
 * only one process can hold: two servers that both found the lock stale cannot both remove it, and
 * nobody removes a newer lock that took its place meanwhile.
 */
async function takeOver(lockPath: string, draft: string, ino: number, content: string): Promise<void> {
  const guard = `${lockPath}.takeover`
  try {
    await link(draft, guard)
  } catch (error) {
    if (!isErrno(error, 'EEXIST')) throw error
    const stats = await lstat(guard).catch(() => undefined)
    if (stats !== undefined && Date.now() - stats.mtimeMs > ABANDONED_GUARD_MS) await unlink(guard).catch(() => undefined)
    return // another server is taking it over: look again
  }
  try {
    const now = await lstat(lockPath).catch(() => undefined)
    if (now?.ino === ino && (await readFile(lockPath, { encoding: 'utf8', flag: READ_FLAGS }).catch(() => undefined)) === content)
      await unlink(lockPath)
  } finally {
    await unlink(guard).catch(() => undefined)
  }
}

/**
 * Takes `<path>.lock`, holding this process's pid and start time, so that two servers starting at
 * once cannot both decide the socket is stale and remove each other's. A lock left by a dead
 * process is taken over, by one server only; one held by a live process means another server is
 * starting there.
 * @throws IpcStateError `ADDRESS_IN_USE`
 */
export function lock(path: string): Promise<() => Promise<void>> {
  return lockFile(`${path}.lock`, {
    what: 'The start-up lock',
    held: (lockPath) =>
      new IpcStateError(ErrorCode.ADDRESS_IN_USE, `Another server is starting at ${path} (it holds ${lockPath})`, {
        data: { path },
      }),
  })
}

/** What {@link lockFile} says when it cannot take a lock. */
export interface LockErrors {
  /** What the lock is, for messages: "The start-up lock". */
  what: string
  /** The error when a live process holds it. */
  held(lockPath: string, holder: string): IpcStateError
  /** The code when another user owns it, and what to do instead. */
  foreign?: { code: ErrorCode; instead: string }
}

/**
 * Takes the lock file `lockPath`, holding this process's pid and start time. A lock left by a dead
 * process is taken over, by one process only.
 * @returns a function that releases it
 * @throws IpcStateError from `errors`
 */
export async function lockFile(lockPath: string, errors: LockErrors): Promise<() => Promise<void>> {
  let holder = ''
  // Written in full under a private name first, then linked into place: link() fails if the lock
  // exists, and nobody ever sees a lock without its content.
  const draft = `${lockPath}.${process.pid}.${randomBytes(4).toString('hex')}`
  const started = await startTime(process.pid)
  await writeFile(draft, started === undefined ? String(process.pid) : `${process.pid} ${started}`, {
    mode: 0o600,
    flag: CREATE_FLAGS,
  })
  // The lock will be this very file under a second name; its inode tells it from any other lock.
  const { ino } = await lstat(draft)
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await link(draft, lockPath)
        return async () => {
          if ((await lstat(lockPath).catch(() => undefined))?.ino === ino) await unlink(lockPath).catch(() => undefined)
        }
      } catch (error) {
        if (!isErrno(error, 'EEXIST')) throw error
      }
      const held = await lstat(lockPath).catch(() => undefined)
      if (held === undefined) continue // released meanwhile: try again
      refuseForeign(lockPath, held.uid, errors.what, errors.foreign)
      const content = await readFile(lockPath, { encoding: 'utf8', flag: READ_FLAGS }).catch(() => undefined)
      if (content === undefined) continue
      holder = content.trim().split(' ')[0] ?? ''
      if (await holderAlive(content)) break
      await takeOver(lockPath, draft, held.ino, content)
    }
  } finally {
    await unlink(draft).catch(() => undefined)
  }
  throw errors.held(lockPath, holder)
}
