// Where the Unix socket is when the options name no folder: the same folder the server picks.
import { lstatSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { defaultSocketRoot, type FolderStat } from '@ipc-state/protocol'

/**
 * The socket folder when the options name none: protocol's `defaultSocketRoot`, from this
 * process's user, its temporary folder and `XDG_RUNTIME_DIR`, as the server finds it.
 */
export function localSocketRoot(): string {
  const runtimeDir = process.env.XDG_RUNTIME_DIR
  let runtimeDirStat: FolderStat | undefined
  if (runtimeDir !== undefined && runtimeDir !== '') {
    try {
      const stats = lstatSync(runtimeDir)
      runtimeDirStat = { uid: stats.uid, mode: stats.mode, directory: stats.isDirectory() }
    } catch {
      // Missing or unreadable: the temporary folder it is.
    }
  }
  return defaultSocketRoot({ platform: process.platform, uid: process.getuid?.(), tmpdir: tmpdir(), runtimeDir, runtimeDirStat })
}
