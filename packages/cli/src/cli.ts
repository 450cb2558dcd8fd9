#!/usr/bin/env node
// The `ipc-state` command: runs the program on the process's arguments and ends cleanly on a signal or a closed pipe.
import { run } from './program.js'

// SIGINT and SIGTERM end a running command (watch, inspect) cleanly: what it opened closes, the exit code is 0.
const stop = new AbortController()
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort())

// A reader that stops early (`ipc-state --help | head -1`) closes the pipe: what is left unwritten
// is not wanted, so that is a quiet end, not a crash.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error
    process.exit(process.exitCode ?? 0)
  })
}

void run(process.argv.slice(2), { signal: stop.signal }).then((code) => {
  process.exitCode = code
})
