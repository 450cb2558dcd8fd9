// The run's temporary folder: sockets, data folders and Redis's files, on one disk, under the
// system's temporary folder, readable by this user only, and removed when the run ends.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A temporary folder of mode 0700 (what `mkdtemp` makes), removed by `remove`. */
export interface TempFolder {
  readonly path: string
  /** A path inside the folder. */
  file(name: string): string
  /** Removes the folder and everything in it; synchronous, so it can run from an `exit` handler. */
  remove(): void
}

/** Makes the run's temporary folder under `os.tmpdir()`. */
export function createTempFolder(): TempFolder {
  const path = mkdtempSync(join(tmpdir(), 'ipc-state-bench-'))
  return {
    path,
    file: (name) => join(path, name),
    remove: () => rmSync(path, { recursive: true, force: true }),
  }
}
