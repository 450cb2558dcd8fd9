// The fixture side of the conversation with a test: JSON events out on stdout, command lines in
// on stdin. The test side is `startFixture` and `ask` in processes.ts.
import { readdirSync } from 'node:fs'
import { createInterface } from 'node:readline'

/** Prints one event line for the test that started this process. */
export function emit(event: string, details: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ event, ...details })}\n`)
}

/** Calls `handler` with every line the test writes to this process's stdin, whole lines only. */
export function onCommand(handler: (line: string) => unknown): void {
  createInterface({ input: process.stdin }).on('line', handler)
}

/** What a server fixture reports about the server it runs. */
export interface ServedServer {
  readonly state: unknown
  readonly version: number
  readonly epoch: string
  readonly connectionCount?: number
}

/**
 * Answers the commands every server fixture understands (the test side is `ServerHandle`):
 * `state` with {"event":"state","state","version","epoch"}, `stats` with
 * {"event":"stats","rss","connections","fds"}. `more` adds commands, or replaces those two.
 */
export function answerServerCommands(server: ServedServer, more: Record<string, () => unknown> = {}): void {
  const commands: Record<string, () => unknown> = {
    state: () => emit('state', { state: server.state, version: server.version, epoch: server.epoch }),
    stats: () => emit('stats', { rss: process.memoryUsage().rss, connections: server.connectionCount, fds: countFds() }),
    ...more,
  }
  onCommand((line) => {
    if (Object.hasOwn(commands, line)) commands[line]!()
  })
}

/** Open file descriptors of this process; `undefined` where /proc is missing, and tests skip the figure. */
function countFds(): number | undefined {
  try {
    return readdirSync('/proc/self/fd').length
  } catch {
    return undefined
  }
}
