// The test side of fixture processes: start one, read its events, ask it something, end it. The
// fixture side (`emit`, `onCommand`) is in fixture-io.ts; `emit` is exported here as well.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { inject } from 'vitest'
import { track } from './leftovers.js'
import { plainFixturePath } from './plain-fixtures.js'

export { emit } from './fixture-io.js'

/** Absolute path of a fixture script in `packages/integration/fixtures`. */
export function fixture(name: string): string {
  return fileURLToPath(new URL(`../../fixtures/${name}`, import.meta.url))
}

const fixturesDir = fixture('')

/** The JavaScript the global setup made of `script`, a TypeScript fixture of fixtures/; else `undefined`. */
function transpiledFixture(script: string): string | undefined {
  if (!script.startsWith(fixturesDir) || !script.endsWith('.ts')) return undefined
  const root = inject('plainFixtures')
  return root === undefined ? undefined : plainFixturePath(root, script.slice(fixturesDir.length))
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
  /**
   * Resolves with the first event (already seen or still to come) that `match` accepts, a string
   * matching by event name. With `after`, an index into `events` (say `events.length` before a
   * command), events printed before it do not count. Rejects if the process exits first.
   */
  waitFor(match: string | ((event: FixtureEvent) => boolean), options?: { after?: number }): Promise<FixtureEvent>
  /**
   * Resolves with the first line of `output` (already printed or still to come) that `match`
   * accepts: for scripts that print text rather than events. Rejects if the process exits first.
   */
  waitForLine(match: (line: string) => boolean): Promise<string>
  readonly exited: Promise<Exit>
  /** Sends `signal` and waits for the process to end. */
  stop(signal?: NodeJS.Signals): Promise<Exit>
}

export interface StartOptions {
  /** Variables for the fixture, by the convention of fixture-env.ts (`IPC_STATE_*`). */
  env?: Record<string, string>
  args?: string[]
  /** Options for Node itself, before the script (say `--import` of a hook). */
  nodeArgs?: string[]
  /**
   * Run the script with plain `node`, without the tsx loader: for JavaScript fixtures that must run
   * as a user would, or from where the workspace's packages cannot be loaded.
   * @default false
   */
  plain?: boolean
  /**
   * Start from `env` and `PATH` alone instead of this process's environment, say for a process of
   * another user, which could not read what this one's variables point at.
   * @default false
   */
  cleanEnv?: boolean
  /** Run as this user (the test must run as root). @default this process's user */
  uid?: number
  /** Run as this group (the test must run as root). @default this process's group */
  gid?: number
  /**
   * Open an IPC channel to the fixture (`process.send` there, `child.send` here), with the
   * `'advanced'` serialization, which carries a Uint8Array as it is.
   * @default false
   */
  ipc?: boolean
}

/**
 * The environment a fixture starts with: this process's, minus any `IPC_STATE_*` variable it
 * happens to have (the convention's names belong to the test), plus `env`.
 */
export function fixtureProcessEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  const inherited = Object.entries(process.env).filter(([name]) => !name.startsWith('IPC_STATE_'))
  return { ...Object.fromEntries(inherited), ...env }
}

/**
 * Starts `script` (TypeScript, through tsx, unless `plain`) as a separate Node process. Fixtures signal readiness
 * and results by printing JSON lines such as `{"event":"ready"}`; nothing here waits by the clock.
 */
export function startFixture(script: string, options: StartOptions = {}): FixtureProcess {
  // A fixture of fixtures/ runs as the JavaScript the run's global setup made of it, when it did:
  // the same code, without the loader's start-up in every process.
  const transpiled = options.plain === true ? undefined : transpiledFixture(script)
  const loader = options.plain === true || transpiled !== undefined ? [] : ['--import', 'tsx']
  const command = [...loader, ...(options.nodeArgs ?? []), transpiled ?? script, ...(options.args ?? [])]
  const child = spawn(process.execPath, command, {
    env: options.cleanEnv === true ? { PATH: process.env.PATH ?? '', ...options.env } : fixtureProcessEnv(options.env),
    stdio: options.ipc === true ? ['pipe', 'pipe', 'pipe', 'ipc'] : ['pipe', 'pipe', 'pipe'],
    ...(options.ipc === true ? { serialization: 'advanced' as const } : {}),
    ...(options.uid === undefined ? {} : { uid: options.uid }),
    ...(options.gid === undefined ? {} : { gid: options.gid }),
  })
  track(child)
  const events: FixtureEvent[] = []
  const output: string[] = []
  const waiters: { match: (event: FixtureEvent) => boolean; resolve(event: FixtureEvent): void; reject(e: Error): void }[] = []
  const lineWaiters = new Set<{ match: (line: string) => boolean; resolve(line: string): void; reject(e: Error): void }>()
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  void exited.then((exit) => {
    for (const waiter of waiters.splice(0)) {
      waiter.reject(new Error(`${script} exited (${exit.code ?? exit.signal}) before the awaited event.\n${output.join('\n')}`))
    }
    for (const waiter of lineWaiters) {
      waiter.reject(new Error(`${script} exited (${exit.code ?? exit.signal}) before the awaited line.\n${output.join('\n')}`))
    }
    lineWaiters.clear()
  })
  const outputLine = (line: string) => {
    output.push(line)
    for (const waiter of lineWaiters) {
      if (waiter.match(line)) {
        lineWaiters.delete(waiter)
        waiter.resolve(line)
      }
    }
  }
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
      outputLine(line)
      return
    }
    events.push(event)
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i]!.match(event)) waiters.splice(i, 1)[0]!.resolve(event)
    }
  })
  createInterface({ input: child.stderr! }).on('line', outputLine)

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
    waitFor(match, options = {}) {
      const test = typeof match === 'string' ? (event: FixtureEvent) => event.event === match : match
      const after = options.after ?? 0
      // Events still to come are all past `after`: only those already seen need the check.
      const seen = events.find((event, index) => index >= after && test(event))
      if (seen !== undefined) return Promise.resolve(seen)
      if (child.exitCode !== null || child.signalCode !== null) {
        return Promise.reject(new Error(`${script} has exited.\n${output.join('\n')}`))
      }
      return new Promise((resolve, reject) => waiters.push({ match: test, resolve, reject }))
    },
    waitForLine(match) {
      const seen = output.find(match)
      if (seen !== undefined) return Promise.resolve(seen)
      if (child.exitCode !== null || child.signalCode !== null) {
        return Promise.reject(new Error(`${script} has exited.\n${output.join('\n')}`))
      }
      return new Promise((resolve, reject) => lineWaiters.add({ match, resolve, reject }))
    },
    stop,
    [Symbol.asyncDispose]: async () => {
      await stop('SIGKILL')
    },
  }
}

let nextTag = 1

/**
 * Writes one command to a fixture's stdin and resolves with the event that answers it, printed
 * after the command was written. A string is sent as the line itself and answered by the next event
 * named `answer` (by default the command itself: `ask(server, 'state')` waits for a `state` event).
 * An object is sent as JSON with a fresh `tag` and answered by the `answer` event (by default
 * `done`) carrying that tag, so several commands may be in flight at once. `answer` may list
 * several event names, say success and refusal.
 */
export function ask(
  proc: FixtureProcess,
  command: string | Record<string, unknown>,
  answer?: string | readonly string[],
): Promise<FixtureEvent> {
  const after = proc.events.length
  let line: string
  let names: readonly string[]
  let tag: number | undefined
  if (typeof command === 'string') {
    line = command
    names = typeof answer === 'string' ? [answer] : (answer ?? [command])
  } else {
    tag = nextTag++
    line = JSON.stringify({ ...command, tag })
    names = typeof answer === 'string' ? [answer] : (answer ?? ['done'])
  }
  const answered = proc.waitFor((e) => names.includes(e.event) && (tag === undefined || e.tag === tag), { after })
  proc.child.stdin!.write(`${line}\n`)
  return answered
}

/** Makes a list of disposables disposable as a whole. */
export function disposeAll<T extends AsyncDisposable>(items: T[]): T[] & AsyncDisposable {
  return Object.assign(items, {
    [Symbol.asyncDispose]: async () => {
      await Promise.all(items.map((item) => item[Symbol.asyncDispose]()))
    },
  })
}

/** Lines a fixture wrote that look like a crash or a warning. */
export function crashLines(proc: FixtureProcess): string[] {
  return proc.output.filter((line) => /error|exception|uncaught|warning|\bat .+:\d+/i.test(line))
}

/** Runs a plain Node script (no loader, as a user would) to its end, with a fixture's environment. */
export function runNode(
  script: string,
  env: Record<string, string>,
  timeout = 20_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [script], { env: fixtureProcessEnv(env), timeout }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null
      resolve({ code, stdout, stderr })
    })
  })
}
