// Fixture side: how a server fixture starts, reports that it did (or why not), and ends.
import { createInterface } from 'node:readline'
import { closeOnSignals, type IpcStateServer, isIpcStateError } from '@ipc-state/server'
import { answerServerCommands, emit } from './fixture-io.js'

/**
 * Starts a server with `start` and prints {"event":"ready","path","epoch","pid","version"} once it
 * listens, or {"event":"error","code","message","data"} and exits 1 when it cannot start. Then it
 * answers the commands of every server fixture (`state`, `stats`) and, on SIGTERM/SIGINT, closes
 * the server, prints {"event":"closed","version"} and exits 0. `more` adds commands of its own.
 */
export async function serveFixture<State extends object>(
  start: () => Promise<IpcStateServer<State>>,
  more: Record<string, () => unknown> = {},
): Promise<void> {
  let server: IpcStateServer<State>
  try {
    server = await start()
  } catch (error) {
    const details = isIpcStateError(error) ? { code: error.code, data: error.data } : { code: 'UNKNOWN' }
    emit('error', { ...details, message: String(error) })
    process.exit(1)
  }
  // The library's own helper: it closes the server, then exits 0 (1 if closing failed).
  closeOnSignals({
    close: async () => {
      await server.close()
      emit('closed', { version: server.version })
    },
  })
  answerServerCommands(server, more)
  emit('ready', { path: server.path, epoch: server.epoch, pid: process.pid, version: server.version })
}

/**
 * Prints {"event":"loaded","pid"} and resolves on the stdin command `start`: a fixture that calls
 * it before `serveFixture` stands by with its code loaded, so a test can replace a killed server
 * without waiting for Node to load one.
 */
export function standBy(): Promise<void> {
  const lines = createInterface({ input: process.stdin })
  emit('loaded', { pid: process.pid })
  return new Promise((resolve) =>
    lines.on('line', (line) => {
      if (line !== 'start') return
      lines.close()
      resolve()
    }),
  )
}
