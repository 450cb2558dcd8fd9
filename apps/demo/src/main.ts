// The seed's index.js, without its one-second guess: starts the server and waits for it to say
// it is ready, then a live watcher, a writer and an incrementer, then the seed-style client; relays
// every process's output with its name in front; stops the server; exits with the client's status
// (or non-zero when any process failed). SIGINT/SIGTERM stops every process it started; a second
// one kills them.
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

let signals = 0
for (const signal of SHUTDOWN_SIGNALS) {
  process.on(signal, () => {
    signals += 1
    if (signals === 1) {
      log(`${signal}: stopping every process`)
      stop.abort(new Interrupted(signal))
    } else {
      log(`${signal} again: killing ${[...children].map((child) => child.name).join(', ') || 'nothing'}`)
      for (const child of children) child.kill('SIGKILL')
    }
  })
}

const ok = (exit: ChildExit) => exit.code === 0

async function run(): Promise<{ code: number; serverReady: boolean }> {
  const failures: string[] = []
  const check = (child: Child, exit: ChildExit) => {
    if (!ok(exit)) failures.push(`${child.name} ended with ${describeExit(exit)}`)
  }
  let serverReady = false
  let stoppingServer = false
  const server = start('server')
  void server.exited.then((exit) => {
    if (!stoppingServer && !stop.signal.aborted) {
      stop.abort(new Error(`the server ended early, with ${describeExit(exit)}`))
    }
  })
  try {
    await until(server.waitForLine((line) => line.startsWith('ready:'), 'it was ready'))
    serverReady = true

    const watcher = start('watcher', ['--counter', String(INCREMENTS * BY), '--messages', String(MESSAGES)])
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
    check(server, await until(server.exited))

    for (const failure of failures) log(`failed: ${failure}`)
    return { code: clientExit.code !== 0 ? (clientExit.code ?? 1) : failures.length > 0 ? 1 : 0, serverReady }
  } catch (error) {
    if (error instanceof Interrupted) return { code: error.signal === 'SIGINT' ? 130 : 143, serverReady }
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
let { code, serverReady } = await run()
await stopAll()
// Only a server that started made the socket file; another one's is not ours to judge.
if (serverReady && existsSync(socketPath)) {
  log(`failed: the socket file ${socketPath} was left behind`)
  if (code === 0) code = 1
}
log(code === 0 ? 'done: every process ended cleanly and the socket file is gone' : `exiting with code ${code}`)
process.exitCode = code
