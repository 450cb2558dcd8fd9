// Tests that play another local user: an impostor server, a squatter of the data folder's lock.
import { spawnSync } from 'node:child_process'

/** The user another local process runs as, where the tests may switch to it. */
export const NOBODY = 65534

/**
 * Why this machine cannot run Node as user nobody, or `undefined` when it can: it takes root, and a
 * Node binary that nobody may run (one unpacked in a private temporary folder is not).
 */
export function cannotRunAsNobody(): string | undefined {
  if (process.getuid?.() !== 0) return 'it needs root, to start a process as another user (nobody)'
  const probe = spawnSync(process.execPath, ['-e', ''], { uid: NOBODY, gid: NOBODY, cwd: '/', timeout: 10_000 })
  if (probe.status !== 0) return `node does not run as user nobody here (${probe.error?.message ?? `exit ${probe.status}`})`
  return undefined
}
