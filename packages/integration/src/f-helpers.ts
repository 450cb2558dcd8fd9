import { execFile } from 'node:child_process'
import { connect as netConnect } from 'node:net'
import { fixture, startFixture, type FixtureEvent, type FixtureProcess, type TempSocketRoot } from './processes.js'
import type { Message } from './test-store.js'

/** The test store's state as a fixture prints it. */
export interface TestState {
  counter: number
  messages: Message[]
}

/** Starts the server fixture in `dir` (not yet ready: wait for its `ready` event). */
export function startServer(dir: TempSocketRoot, env: Record<string, string> = {}): FixtureProcess {
  return startFixture(fixture('server.ts'), { env: { IPC_STATE_SOCKET_ROOT: dir.socketRoot, ...env } })
}

/** Starts `fixtures/<name>` with the socket folder of `dir` in `F_SOCKET_ROOT`. */
export function startF(name: string, dir: TempSocketRoot, env: Record<string, string> = {}): FixtureProcess {
  return startFixture(fixture(name), { env: { F_SOCKET_ROOT: dir.socketRoot, ...env } })
}

/** Starts `count` worker fixtures (`f-worker.ts`), disposed together. */
export function startWorkers(
  count: number,
  dir: TempSocketRoot,
  env: Record<string, string> = {},
): FixtureProcess[] & AsyncDisposable {
  return disposeAll(Array.from({ length: count }, () => startF('f-worker.ts', dir, env)))
}

/** Makes a list of disposables disposable as a whole. */
export function disposeAll<T extends AsyncDisposable>(items: T[]): T[] & AsyncDisposable {
  return Object.assign(items, {
    [Symbol.asyncDispose]: async () => {
      await Promise.all(items.map((item) => item[Symbol.asyncDispose]()))
    },
  })
}

let nextTag = 1

/**
 * Writes one command to a fixture's stdin and resolves with the event that answers it. A string is
 * sent as it is and answered by the next `event` printed after it; an object is sent as JSON with a
 * fresh `tag`, and answered by the `event` carrying that tag.
 */
export function ask(proc: FixtureProcess, command: string | Record<string, unknown>, event = 'done'): Promise<FixtureEvent> {
  let line: string
  let match: (e: FixtureEvent) => boolean
  if (typeof command === 'string') {
    const before = proc.events.length
    line = command
    match = (e) => e.event === event && proc.events.indexOf(e) >= before
  } else {
    const tag = nextTag++
    line = JSON.stringify({ ...command, tag })
    match = (e) => e.event === event && e.tag === tag
  }
  const answer = proc.waitFor(match)
  proc.child.stdin!.write(`${line}\n`)
  return answer
}

/** The server fixture's own view: `{ state, version, epoch }`. */
export async function serverView(server: FixtureProcess): Promise<{ state: TestState; version: number; epoch: string }> {
  const event = await ask(server, 'state', 'state')
  return event as unknown as { state: TestState; version: number; epoch: string }
}

/** Runs `promise`, which must reject, and returns what it rejected with. */
export async function caught(promise: Promise<unknown>): Promise<Error & { code?: string; data?: unknown }> {
  try {
    await promise
  } catch (error) {
    return error as Error & { code?: string }
  }
  throw new Error('expected a rejection, but the promise resolved')
}

/** A frame as a raw peer sees it. */
export interface RawFrame {
  type: string
  data?: any
}

/** A plain `node:net` connection speaking node-ipc's framing (JSON + `\f`), for protocol-level tests. */
export interface RawPeer extends AsyncDisposable {
  readonly frames: RawFrame[]
  send(type: string, data?: unknown): void
  /** Resolves with the first frame (seen or to come) that `match` accepts. */
  next(match: (frame: RawFrame) => boolean): Promise<RawFrame>
  /** Resolves once the server closed the connection. */
  readonly closed: Promise<void>
}

export function rawConnect(path: string): Promise<RawPeer> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ path })
    const frames: RawFrame[] = []
    const waiters: { match: (frame: RawFrame) => boolean; resolve(frame: RawFrame): void }[] = []
    let buffer = ''
    const closed = new Promise<void>((done) => socket.once('close', () => done()))
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      buffer += chunk
      for (let end = buffer.indexOf('\f'); end !== -1; end = buffer.indexOf('\f')) {
        const frame = JSON.parse(buffer.slice(0, end)) as RawFrame
        buffer = buffer.slice(end + 1)
        frames.push(frame)
        for (let i = waiters.length - 1; i >= 0; i--) {
          if (waiters[i]!.match(frame)) waiters.splice(i, 1)[0]!.resolve(frame)
        }
      }
    })
    socket.once('error', reject)
    socket.once('connect', () => {
      socket.off('error', reject)
      socket.on('error', () => {})
      resolve({
        frames,
        send: (type, data) => socket.write(`${JSON.stringify({ type, data })}\f`),
        next(match) {
          const seen = frames.find(match)
          if (seen !== undefined) return Promise.resolve(seen)
          return new Promise((found, failed) => {
            waiters.push({ match, resolve: found })
            void closed.then(() => failed(new Error(`connection closed; frames seen: ${JSON.stringify(frames)}`)))
          })
        },
        closed,
        [Symbol.asyncDispose]: async () => {
          socket.destroy()
          await closed
        },
      })
    })
  })
}

/** Runs a plain Node script (no loader, as a user would) to its end. */
export function runNode(
  script: string,
  env: Record<string, string>,
  timeout = 20_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [script], { env: { ...process.env, ...env }, timeout }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null
      resolve({ code, stdout, stderr })
    })
  })
}

/** Describes how `versions` departs from `from + 1, from + 2, …, to`; `undefined` when it does not. */
export function versionProblems(versions: number[], from: number, to: number): string | undefined {
  if (versions.length === 0) return from === to ? undefined : `saw no version, expected ${from + 1}..${to}`
  const problems: string[] = []
  if (versions[0] !== from + 1) problems.push(`first ${versions[0]}, expected ${from + 1}`)
  for (let i = 1; i < versions.length; i++) {
    const step = versions[i]! - versions[i - 1]!
    if (step !== 1) problems.push(`${versions[i - 1]} -> ${versions[i]}`)
    if (problems.length > 10) break
  }
  if (versions.at(-1) !== to) problems.push(`last ${versions.at(-1)}, expected ${to}`)
  return problems.length === 0 ? undefined : problems.join('; ')
}
