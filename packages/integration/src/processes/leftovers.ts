// Processes a test file started and never stopped: a test that times out never reaches its
// disposers, and its servers, clients and redis-servers must not load the machine for the next files.
import type { ChildProcess } from 'node:child_process'

const live = new Set<ChildProcess>()

/** Keeps `child` on the list until it exits. */
export function track(child: ChildProcess): void {
  live.add(child)
  child.once('exit', () => live.delete(child))
}

/** Kills with SIGKILL every tracked process still running; returns how many there were. */
export function killLeftovers(): number {
  const left = [...live]
  for (const child of left) child.kill('SIGKILL')
  live.clear()
  return left.length
}
