// Runs the demo's programs as a user does, each its own process in a fresh socket folder, and follows what they print.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const demoDir = fileURLToPath(new URL('..', import.meta.url))
export const SOCKET_NAME = 'ipc-ogreniyorumserver-socket'

/** A fresh socket folder under /tmp (short, for the socket path limit), removed on dispose. */
export async function tempSocketRoot() {
  const dir = await mkdtemp('/tmp/ipcs-demo-')
  return { dir, socketPath: `${dir}/${SOCKET_NAME}`, [Symbol.asyncDispose]: () => rm(dir, { recursive: true, force: true }) }
}

export interface Run extends AsyncDisposable {
  readonly child: ChildProcess
  /** Every line printed so far, stdout and stderr. */
  readonly lines: string[]
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Resolves with the first line matching `pattern`; rejects if the process ends first. */
  waitForLine(pattern: RegExp): Promise<string>
  output(): string
}

/**
 * Starts `command` in the demo's folder, its socket in `socketRoot`, with the demo's other
 * variables unset unless `options.env` sets them: a test sees only what it asked for.
 */
export function run(
  command: string,
  args: string[],
  socketRoot: string,
  options: { detached?: boolean; env?: NodeJS.ProcessEnv } = {},
): Run {
  const env: NodeJS.ProcessEnv = { ...process.env, IPC_STATE_SOCKET_ROOT: `${socketRoot}/` }
  delete env.IPC_STATE_APPSPACE
  delete env.IPC_STATE_ID
  delete env.IPC_STATE_LOG
  delete env.IPC_STATE_DATA_DIR
  delete env.IPC_STATE_FSYNC
  delete env.IPC_STATE_REDIS_URL
  delete env.IPC_STATE_REDIS_KEY
  delete env.IPC_STATE_LEAVE_GRACE
  delete env.IPC_STATE_WEB_PORT
  Object.assign(env, options.env)
  const child = spawn(command, args, { cwd: demoDir, env, stdio: ['ignore', 'pipe', 'pipe'], detached: options.detached })
  const lines: string[] = []
  const waiters = new Set<{ pattern: RegExp; resolve(line: string): void }>()
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      lines.push(line)
      for (const waiter of waiters) {
        if (waiter.pattern.test(line)) {
          waiters.delete(waiter)
          waiter.resolve(line)
        }
      }
    })
  }
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  )
  return {
    child,
    lines,
    exited,
    output: () => lines.join('\n'),
    waitForLine(pattern) {
      const seen = lines.find((line) => pattern.test(line))
      if (seen !== undefined) return Promise.resolve(seen)
      return new Promise((resolve, reject) => {
        const waiter = { pattern, resolve }
        waiters.add(waiter)
        void exited.then(() => {
          if (waiters.delete(waiter)) reject(new Error(`ended before printing ${pattern}:\n${lines.join('\n')}`))
        })
      })
    },
    async [Symbol.asyncDispose]() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
    },
  }
}
