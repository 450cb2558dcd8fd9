// The seed's index.js, without its one-second guess: starts the server and waits for it to say
// it is ready, then a live watcher (which prints every change, and who joins and leaves), a writer
// and an incrementer, then the seed-style client; relays every process's output with its name in
// front; stops the server; exits with the client's status (or non-zero when any process failed).
// SIGINT/SIGTERM stops every process it started and exits 0 once the server closed cleanly and its
// socket file is gone, so Ctrl-C reads as the clean stop it is; a second one kills them (and the
// exit is 1).
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { demoSocketPath, describeError } from './config.js'
import { SHUTDOWN_SIGNALS } from './on-shutdown.js'
import { describeExit, startChild, type Child, type ChildExit } from './start-child.js'

/** What the live part does: small, so the whole demo takes a few seconds. */
const MESSAGES = 5
const INCREMENTS = 5
const BY = 1

class Interrupted extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super(`${signal} received`)
  }
}

const log = (line: string) => console.log(`[main] ${line}`)
const children = new Set<Child>()
const stop = new AbortController()
const stopped = new Promise<never>((_resolve, reject) => {
  stop.signal.addEventListener('abort', () => reject(stop.signal.reason as Error), { once: true })
})
stopped.catch(() => {})

/** Waits for `promise`, unless the demo is being stopped first. */
const until = <T>(promise: Promise<T>): Promise<T> => Promise.race([promise, stopped])

function start(name: string, args: string[] = []): Child {
  const child = startChild({
    name,
    script: fileURLToPath(new URL(`${name}.ts`, import.meta.url)),
    args,
    onLine: (line, stream) => (stream === 'stdout' ? console.log : console.error)(`[${name}] ${line}`),
  })
  log(`started ${name} (pid ${child.pid ?? '-'})`)
  children.add(child)
  void child.exited.then(() => children.delete(child))
  return child
}

/**
 * Signals this soon after the first are that same Ctrl-C passed on: the terminal signals every
 * process of its group, and pnpm and turbo each send their child one more (pnpm a SIGTERM after
 * that). Only a later one is a second Ctrl-C.
 */
const PASSED_ON_MS = 2_000

let firstSignalAt: number | undefined
for (const signal of SHUTDOWN_SIGNALS) {
  process.on(signal, () => {
    if (firstSignalAt === undefined) {
      firstSignalAt = performance.now()
      log(`${signal}: stopping every process`)
      stop.abort(new Interrupted(signal))
    } else if (performance.now() - firstSignalAt < PASSED_ON_MS) {
      return
    } else {
      log(`${signal} again: killing ${[...children].map((child) => child.name).join(', ') || 'nothing'}`)
      for (const child of children) child.kill('SIGKILL')
    }
  })
}

const ok = (exit: ChildExit) => exit.code === 0

/** The server this run started, once it started it. */
let server: Child | undefined

async function run(): Promise<{ code: number; serverReady: boolean; interrupted?: NodeJS.Signals }> {
  const failures: string[] = []
  const check = (child: Child, exit: ChildExit) => {
    if (!ok(exit)) failures.push(`${child.name} ended with ${describeExit(exit)}`)
  }
  let serverReady = false
  let stoppingServer = false
  server = start('server')
  void server.exited.then((exit) => {
    if (!stoppingServer && !stop.signal.aborted) {
      stop.abort(new Error(`the server ended early, with ${describeExit(exit)}`))
    }
  })
  try {
    await until(server.waitForLine((line) => line.startsWith('ready:'), 'it was ready'))
    serverReady = true

    // Until the writer and the incrementer have left too, so that it prints their leaves: only
    // the watcher itself is connected then.
    const watcher = start('watcher', ['--counter', String(INCREMENTS * BY), '--messages', String(MESSAGES), '--clients', '1'])
    await until(watcher.waitForLine((line) => line.startsWith('watching '), 'it was watching'))
    const writer = start('writer', ['--count', String(MESSAGES)])
    const incrementer = start('incrementer', ['--count', String(INCREMENTS), '--by', String(BY)])
    for (const producer of [writer, incrementer]) {
      // Without all its changes the watcher would wait for ever.
      void producer.exited.then((exit) => {
        if (!ok(exit)) watcher.kill('SIGTERM')
      })
    }
    const live = [watcher, writer, incrementer]
    const exits = await until(Promise.all(live.map((child) => child.exited)))
    for (const [i, child] of live.entries()) check(child, exits[i]!)

    const client = start('client')
    const clientExit = await until(client.exited)
    check(client, clientExit)

    stoppingServer = true
    server.kill('SIGTERM')
    check(server, await until(server!.exited))

    for (const failure of failures) log(`failed: ${failure}`)
    return { code: clientExit.code !== 0 ? (clientExit.code ?? 1) : failures.length > 0 ? 1 : 0, serverReady }
  } catch (error) {
    // Stopping is what was asked: the exit says whether it went cleanly, once everything ended.
    if (error instanceof Interrupted) return { code: 0, serverReady, interrupted: error.signal }
    log(`failed: ${describeError(error)}`)
    return { code: 1, serverReady }
  }
}

/** Stops whatever is still running and waits for it to end. */
async function stopAll(): Promise<void> {
  const running = [...children]
  for (const child of running) {
    log(`stopping ${child.name}`)
    child.kill('SIGTERM')
  }
  for (const child of running) log(`${child.name} ended with ${describeExit(await child.exited)}`)
}

let socketPath: string
try {
  socketPath = demoSocketPath()
} catch (error) {
  log(`failed: ${describeError(error)}`)
  process.exit(1)
}
log(`socket: ${socketPath}`)
let { code, serverReady, interrupted } = await run()
await stopAll()
// Asked to stop: the processes it started may end by the signal, but the server must close cleanly.
const serverExit = await server?.exited
if (interrupted !== undefined && serverExit !== undefined && !ok(serverExit)) {
  log(`failed: the server ended with ${describeExit(serverExit)}`)
  code = 1
}
// Only a server that started made the socket file; another one's is not ours to judge.
if (serverReady && existsSync(socketPath)) {
  log(`failed: the socket file ${socketPath} was left behind`)
  if (code === 0) code = 1
}
if (code !== 0) log(`exiting with code ${code}`)
else if (interrupted !== undefined) log(`stopped by ${interrupted}: every process ended and the socket file is gone`)
else log('done: every process ended cleanly and the socket file is gone')
// Now, not once the event loop drains: Node tears its signal handlers down on the way out, and a
// SIGINT that pnpm or turbo passes on after a Ctrl-C would then kill the process by signal.
process.exit(code)
