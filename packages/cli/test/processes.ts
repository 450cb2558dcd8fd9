// The test side of the real processes: a temporary socket folder, the fixture server, and the
// built bin run once or kept running. Readiness is a printed line, never a guess by the clock.
import { spawn, type ChildProcess } from 'node:child_process'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const BIN = fileURLToPath(new URL('../dist/cli.js', import.meta.url))
const SERVER = fileURLToPath(new URL('./fixtures/server.ts', import.meta.url))
const DEMO = fileURLToPath(new URL('../../../apps/demo/src/', import.meta.url))

/** The fixture server's appspace, which `cliEnv` passes on. */
export const APPSPACE = 'cli.'

/** A socket folder under /tmp, short for Unix socket paths, mode 0700, removed on dispose. */
export async function tempSocketRoot(): Promise<{ socketRoot: string } & AsyncDisposable> {
  const dir = await mkdtemp('/tmp/ipcc-')
  await chmod(dir, 0o700)
  return { socketRoot: `${dir}/`, [Symbol.asyncDispose]: () => rm(dir, { recursive: true, force: true }) }
}

/** This process's environment without any `IPC_STATE_*` of its own, plus `env`. */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  const inherited = Object.entries(process.env).filter(([name]) => !name.startsWith('IPC_STATE_') && name !== 'NO_COLOR')
  return { ...Object.fromEntries(inherited), ...env }
}

/** The address variables of the fixture server in `socketRoot`. */
export function cliEnv(socketRoot: string, id = 'srv'): Record<string, string> {
  return { IPC_STATE_SOCKET_ROOT: socketRoot, IPC_STATE_APPSPACE: APPSPACE, IPC_STATE_ID: id }
}

/** A process whose output is read line by line. */
export interface LineProcess extends AsyncDisposable {
  readonly child: ChildProcess
  readonly stdout: string[]
  readonly stderr: string[]
  /** Resolves with the first stdout line (already printed or to come) that `match` accepts; rejects if the process exits first. */
  waitForLine(match: (line: string) => boolean): Promise<string>
  readonly exited: Promise<number | null>
}

function startLines(args: string[], env: Record<string, string>): LineProcess {
  const child = spawn(process.execPath, args, { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] })
  const stdout: string[] = []
  const stderr: string[] = []
  const waiters = new Set<{ match: (line: string) => boolean; resolve: (line: string) => void }>()
  // Wait for the output to be read to its end as well as for the exit, so no line is missed.
  const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)))
  createInterface({ input: child.stdout! }).on('line', (line) => {
    stdout.push(line)
    for (const waiter of waiters) {
      if (!waiter.match(line)) continue
      waiters.delete(waiter)
      waiter.resolve(line)
    }
  })
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line))
  return {
    child,
    stdout,
    stderr,
    exited: closed,
    waitForLine(match) {
      const seen = stdout.find(match)
      if (seen !== undefined) return Promise.resolve(seen)
      return new Promise((resolve, reject) => {
        waiters.add({ match, resolve })
        void closed.then((code) =>
          reject(new Error(`${args.join(' ')} exited (${code}) before the awaited line:\n${[...stdout, ...stderr].join('\n')}`)),
        )
      })
    },
    async [Symbol.asyncDispose]() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      await closed
    },
  }
}

/**
 * The fixture server on `socketRoot`, or in the library's default folder with its default appspace
 * when `socketRoot` is `undefined`, once it printed its ready line. Disposing it stops it.
 */
export async function startServer(socketRoot: string | undefined, id = 'srv'): Promise<LineProcess> {
  const server = startLines(['--import', 'tsx', SERVER], socketRoot === undefined ? { IPC_STATE_ID: id } : cliEnv(socketRoot, id))
  await server.waitForLine((line) => line.includes('"event":"ready"'))
  return server
}

/**
 * A script of the demo (`server.ts`, `writer.ts`…) run as `pnpm dev` runs it, with only
 * `IPC_STATE_SOCKET_ROOT` set: every other part of the address is the demo's default.
 */
export function startDemo(script: string, socketRoot: string, args: string[] = []): LineProcess {
  return startLines(['--import', 'tsx', `${DEMO}${script}`, ...args], { IPC_STATE_SOCKET_ROOT: socketRoot })
}

/** The built bin, kept running (say `watch`). */
export function startCli(args: string[], env: Record<string, string>): LineProcess {
  return startLines([BIN, ...args], env)
}

/** What a finished run of the bin printed, and its exit code. */
export interface CliRun {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs the built bin to its end. */
export async function runCli(args: string[], env: Record<string, string>): Promise<CliRun> {
  const cli = startLines([BIN, ...args], env)
  const code = await cli.exited
  return { code, stdout: cli.stdout.join('\n'), stderr: cli.stderr.join('\n') }
}
