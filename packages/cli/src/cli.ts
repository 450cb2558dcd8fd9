#!/usr/bin/env node
import { run } from './program.js'

// SIGINT and SIGTERM end a running command (watch, inspect) cleanly: what it opened closes, the exit code is 0.
const stop = new AbortController()
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort())

void run(process.argv.slice(2), { signal: stop.signal }).then((code) => {
  process.exitCode = code
})
