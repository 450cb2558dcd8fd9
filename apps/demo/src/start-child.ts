import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'

// Resolved here, so children find tsx wherever the orchestrator is started from.
const TSX_LOADER = import.meta.resolve('tsx')

/** How a child process ended. */
export interface ChildExit {
  /** The exit code, `null` when a signal ended it or it never started. */
  code: number | null
  signal: NodeJS.Signals | null
  /** Why it could not be started, if it could not. */
  error?: Error
}

/** A demo process started by {@link startChild}. */
export interface Child {
  readonly name: string
  /** `undefined` when the process could not be started. */
  readonly pid: number | undefined
  /** Resolves once the process has ended and all of its output has been relayed. */
  readonly exited: Promise<ChildExit>
  /**
   * Resolves with the first line of output (already printed or still to come) that `match` accepts.
   * Rejects when the process ends without printing one.
   */
  waitForLine(match: (line: string) => boolean, what: string): Promise<string>
  /** Sends `signal` if the process is still running. */
  kill(signal: NodeJS.Signals): void
}

/** Options for {@link startChild}. */
export interface StartChildOptions {
  /** The name its output lines are shown with. */
  name: string
  /** Absolute path of the TypeScript file to run (through tsx). */
  script: string
  /** @default [] */
  args?: string[]
  /** Called with every line the child prints, in order. */
  onLine(line: string, stream: 'stdout' | 'stderr'): void
}

/** Formats a {@link ChildExit} for people: `code 0`, `signal SIGTERM`, or why it did not start. */
export function describeExit(exit: ChildExit): string {
  if (exit.error !== undefined) return `failed to start (${exit.error.message})`
  return exit.signal === null ? `code ${exit.code}` : `signal ${exit.signal}`
}

/** Runs `script` as a separate Node process (`node --import tsx script …args`), relaying its output. */
export function startChild(options: StartChildOptions): Child {
  const { name, script, args = [], onLine } = options
  const child = spawn(process.execPath, ['--import', TSX_LOADER, script, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: process.env,
  })
  const lines: string[] = []
  const waiters = new Set<{ match: (line: string) => boolean; resolve(line: string): void }>()

  for (const stream of ['stdout', 'stderr'] as const) {
    createInterface({ input: child[stream], crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
      lines.push(line)
      onLine(line, stream)
      for (const waiter of waiters) {
        if (waiter.match(line)) {
          waiters.delete(waiter)
          waiter.resolve(line)
        }
      }
    })
  }

  const exited = new Promise<ChildExit>((resolve) => {
    // 'close' comes after the output streams have ended, so every line has been relayed.
    child.once('close', (code, signal) => resolve({ code, signal }))
    child.once('error', (error) => {
      if (child.pid === undefined) resolve({ code: null, signal: null, error })
    })
  })

  return {
    name,
    pid: child.pid,
    exited,
    waitForLine(match, what) {
      const seen = lines.find(match)
      if (seen !== undefined) return Promise.resolve(seen)
      return new Promise<string>((resolve, reject) => {
        const waiter = { match, resolve }
        waiters.add(waiter)
        void exited.then((exit) => {
          if (!waiters.delete(waiter)) return
          reject(new Error(`${name} ended (${describeExit(exit)}) before ${what}`))
        })
      })
    },
    kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    },
  }
}
