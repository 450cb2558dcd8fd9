// The socket folder server and client agree on when the options name none, read from this process.
import { defaultSocketRoot, type FolderStat } from './socket-path.js'

/**
 * What {@link localSocketRoot} reads of the process it runs in: pass `{ process, lstatSync, tmpdir }`
 * from Node's globals, `node:fs` and `node:os`. This package imports no Node module, so that its
 * other entries load anywhere; the one function that reads the file system takes it from its caller.
 */
export interface LocalSocketRootHost {
  /** `process`: its platform, its user id and `XDG_RUNTIME_DIR`. */
  readonly process: {
    readonly platform: string
    readonly env: Readonly<Record<string, string | undefined>>
    /** Absent on Windows. */
    readonly getuid?: (() => number) | undefined
  }
  /** `fs.lstatSync`: it may throw for a missing or unreadable folder. */
  readonly lstatSync: (path: string) => {
    uid: number
    mode: number
    /** Whether the path is a folder itself, not a link to one. */
    isDirectory(): boolean
  }
  /** `os.tmpdir`. */
  readonly tmpdir: () => string
}

/**
 * The socket folder when the options name none: {@link defaultSocketRoot} of this process's user,
 * its temporary folder and `XDG_RUNTIME_DIR` (which it `lstat`s, so that it is used only when it is
 * this user's own, private folder). Server and client both call it, so a server and a client given
 * the same `appspace` and `id` meet at the same path.
 *
 * @example
 * ```ts
 * // lstatSync from node:fs, tmpdir from node:os
 * localSocketRoot({ process, lstatSync, tmpdir }) // say '/run/user/1000/ipc-state/'
 * ```
 */
export function localSocketRoot(host: LocalSocketRootHost): string {
  const { platform, env, getuid } = host.process
  const runtimeDir = env.XDG_RUNTIME_DIR
  let runtimeDirStat: FolderStat | undefined
  if (runtimeDir !== undefined && runtimeDir !== '') {
    try {
      const stats = host.lstatSync(runtimeDir)
      runtimeDirStat = { uid: stats.uid, mode: stats.mode, directory: stats.isDirectory() }
    } catch {
      // Missing or unreadable: the temporary folder it is.
    }
  }
  return defaultSocketRoot({ platform, uid: getuid?.call(host.process), tmpdir: host.tmpdir(), runtimeDir, runtimeDirStat })
}
