// Opening the files of a data folder without following symbolic links: whoever planted a link
// there must not make the server read or write the file it points at.
import { constants } from 'node:fs'
import { type FileHandle, open } from 'node:fs/promises'

/** `O_NOFOLLOW` where the platform has it (0 elsewhere): opening a symbolic link fails with `ELOOP`. */
const NOFOLLOW = constants.O_NOFOLLOW ?? 0

/** Flags to read a file: a link is refused, and a FIFO planted in its place does not block the open. */
export const READ_FLAGS = constants.O_RDONLY | NOFOLLOW | (constants.O_NONBLOCK ?? 0)
/** Flags to create a file that must not exist yet, not even as a link. */
export const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW
/** Flags to write to a file that exists, not through a link. */
export const WRITE_FLAGS = constants.O_WRONLY | NOFOLLOW
/** Flags to open a folder to flush it, not through a link. */
export const FOLDER_FLAGS = constants.O_RDONLY | NOFOLLOW | (constants.O_DIRECTORY ?? 0)

/**
 * Reads the regular file at `path`, refusing a symbolic link (`ELOOP`) and anything but a regular
 * file (`EFTYPE`, with a message saying what it is).
 */
export async function readDataFile(path: string): Promise<Buffer> {
  const handle = await open(path, READ_FLAGS)
  try {
    await regularFile(handle, path)
    return await handle.readFile()
  } finally {
    await handle.close()
  }
}

/** Refuses a handle that is not a regular file (a FIFO, a device, a folder). */
async function regularFile(handle: FileHandle, path: string): Promise<void> {
  if ((await handle.stat()).isFile()) return
  throw Object.assign(new Error(`${path} is not a regular file`), { code: 'EFTYPE' })
}

/** Whether `error` says a file was a symbolic link or not a regular file: planted, not written by a server. */
export const notOurFile = (error: unknown): boolean =>
  ['ELOOP', 'EFTYPE', 'EISDIR'].includes((error as NodeJS.ErrnoException).code ?? '')
