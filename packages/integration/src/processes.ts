import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

/** Absolute path of a fixture script in `packages/integration/fixtures`. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url))
}

/** A temporary socket folder, short enough for Unix socket paths, removed on dispose. */
export interface TempSocketRoot extends AsyncDisposable {
  /** The folder, with its trailing slash, as node-ipc's `socketRoot` wants it. */
  readonly socketRoot: string
}

export async function tempSocketRoot(): Promise<TempSocketRoot> {
  const dir = await mkdtemp('/tmp/ipcs-')
  return {
    socketRoot: `${dir}/`,
    [Symbol.asyncDispose]: () => rm(dir, { recursive: true, force: true }),
  }
}

/** One JSON line a fixture printed on stdout. */
export type FixtureEvent = { event: string } & Record<string, unknown>

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
}

/** A fixture running as its own process. Disposing it kills it if it is still running. */
export interface FixtureProcess extends AsyncDisposable {
  readonly child: ChildProcess
  readonly pid: number
  /** Every JSON event printed so far. */
  readonly events: FixtureEvent[]
  /** Lines of stdout that were not JSON events, and all of stderr. */
  readonly output: string[]
  /** Resolves with the first event (already seen or still to come) that `match` accepts. */
  waitFor(match: string | ((event: FixtureEvent) => boolean)): Promise<FixtureEvent>
  readonly exited: Promise<Exit>
  /** Sends `signal` and waits for the process to end. */
  stop(signal?: NodeJS.Signals): Promise<Exit>
}

export interface StartOptions {
  env?: Record<string, string>
  args?: string[]
}

/**
 * Starts `script` (TypeScript, through tsx) as a separate Node process. Fixtures signal readiness
 * and results by printing JSON lines such as `{"event":"ready"}`; nothing here waits by the clock.
 */
export function startFixture(script: string, options: StartOptions = {}): FixtureProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...(options.args ?? [])], {
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  const events: FixtureEvent[] = []
  const output: string[] = []
  const waiters: { match: (event: FixtureEvent) => boolean; resolve(event: FixtureEvent): void; reject(e: Error): void }[] = []
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  void exited.then((exit) => {
    for (const waiter of waiters.splice(0)) {
      waiter.reject(
        new Error(`${script} exited (${exit.code ?? exit.signal}) before the awaited event.\n${output.join('\n')}`),
      )
    }
  })
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let event: FixtureEvent | undefined
    try {
      const parsed = JSON.parse(line) as unknown
      if (typeof parsed === 'object' && parsed !== null && typeof (parsed as FixtureEvent).event === 'string') {
        event = parsed as FixtureEvent
      }
    } catch {
      // not an event line
    }
    if (event === undefined) {
      output.push(line)
      return
    }
    events.push(event)
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i]!.match(event)) waiters.splice(i, 1)[0]!.resolve(event)
    }
  })
  createInterface({ input: child.stderr! }).on('line', (line) => output.push(line))

  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    return exited
  }
  return {
    child,
    pid: child.pid!,
    events,
    output,
    exited,
    waitFor(match) {
      const test = typeof match === 'string' ? (event: FixtureEvent) => event.event === match : match
      const seen = events.find(test)
      if (seen !== undefined) return Promise.resolve(seen)
      if (child.exitCode !== null || child.signalCode !== null) {
        return Promise.reject(new Error(`${script} has exited.\n${output.join('\n')}`))
      }
      return new Promise((resolve, reject) => waiters.push({ match: test, resolve, reject }))
    },
    stop,
    [Symbol.asyncDispose]: async () => {
      await stop('SIGKILL')
    },
  }
}

/** Prints one event line for the test that started this process. */
export function emit(event: string, details: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ event, ...details })}\n`)
}
