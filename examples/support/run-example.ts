// Runs an example's script as its own process, the way its README says to run it, and follows its output.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const EXAMPLES = dirname(dirname(fileURLToPath(import.meta.url)))

/** One running example script. */
export interface ExampleProcess {
  readonly child: ChildProcess
  /** Every line it printed on stdout so far. */
  readonly lines: string[]
  /** Resolves with the first line (already printed or still to come) that matches. */
  waitForLine(pattern: RegExp): Promise<string>
  /** Resolves once it exited, with its code or the signal that ended it, and what it wrote on stderr. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>
}

const running = new Set<ChildProcess>()

/** A folder for the sockets of one test's examples, removed by {@link stopExamples}. */
let socketRoot: string | undefined

/**
 * Starts `examples/<script>` with tsx. Every example of one test shares a fresh socket folder
 * (`IPC_STATE_SOCKET_ROOT`, which the examples pass to the library), so tests never meet.
 */
export function runExample(script: string, args: string[] = [], env: Record<string, string> = {}): ExampleProcess {
  socketRoot ??= `${mkdtempSync(join(tmpdir(), 'ipc-state-examples-'))}/`
  const child = spawn(process.execPath, ['--import', 'tsx', join(EXAMPLES, script), ...args], {
    cwd: EXAMPLES,
    env: { ...process.env, IPC_STATE_SOCKET_ROOT: socketRoot, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  running.add(child)
  const lines: string[] = []
  const waiters = new Set<{ pattern: RegExp; resolve: (line: string) => void; reject: (error: Error) => void }>()
  let partial = ''
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n')
    partial = parts.pop() ?? ''
    for (const line of parts) {
      lines.push(line)
      for (const waiter of waiters) {
        if (waiter.pattern.test(line)) {
          waiters.delete(waiter)
          waiter.resolve(line)
        }
      }
    }
  })
  let stderr = ''
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
    child.on('exit', (code, signal) => {
      running.delete(child)
      for (const waiter of waiters) {
        waiter.reject(
          new Error(`${script} exited (${code ?? signal}) before printing ${waiter.pattern}:\n${lines.join('\n')}\n${stderr}`),
        )
      }
      waiters.clear()
      resolve({ code, signal, stderr })
    })
  })
  return {
    child,
    lines,
    exited,
    waitForLine(pattern) {
      const seen = lines.find((line) => pattern.test(line))
      if (seen !== undefined) return Promise.resolve(seen)
      if (child.exitCode !== null || child.signalCode !== null) {
        return Promise.reject(new Error(`${script} exited before printing ${pattern}:\n${lines.join('\n')}\n${stderr}`))
      }
      return new Promise((resolve, reject) => waiters.add({ pattern, resolve, reject }))
    },
  }
}

/** Kills every example still running and removes the socket folder: call it after each test. */
export async function stopExamples(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once('exit', () => resolve())
          child.kill('SIGKILL')
        }),
    ),
  )
  if (socketRoot !== undefined) rmSync(socketRoot, { recursive: true, force: true })
  socketRoot = undefined
}
