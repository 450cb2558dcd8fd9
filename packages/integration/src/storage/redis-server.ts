// A real redis-server for the tests: on a Unix socket in a temporary folder, no TCP port, started
// again on the same files when a test stops it, and killed with its folder removed on dispose.
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { track } from '../processes/leftovers.js'
import { mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

/** How a test's redis-server runs. */
export interface RedisServerOptions {
  /** `requirepass`: clients must give this password. */
  password?: string
  /** Keep an append-only file (flushed every second, and on a clean stop), so a restart keeps the data. */
  appendonly?: boolean
}

/** A redis-server a test started. */
export interface RedisServer extends AsyncDisposable {
  /** Its Unix socket. */
  readonly path: string
  /** The URL the storage takes: the socket path, with the password when there is one. */
  readonly url: string
  /** Whether it runs now. */
  readonly running: boolean
  /** Stops it cleanly (SIGTERM: it writes out its append-only file first) and waits for its exit. */
  stop(): Promise<void>
  /** Starts it again on the same folder and socket; resolves once it accepts connections. */
  start(): Promise<void>
  /** Sends `signal` to it (say SIGSTOP to pause it, SIGCONT to let it go on). */
  signal(signal: NodeJS.Signals): void
  /** Runs one command through redis-cli and resolves with its output, trimmed. */
  command(...args: string[]): Promise<string>
}

const BINARY = process.env.REDIS_SERVER ?? 'redis-server'

/** Starts a redis-server and resolves once it says it accepts connections. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = await mkdtemp('/tmp/ipcs-redis-')
  const path = join(dir, 'redis.sock')
  const args = ['--port', '0', '--unixsocket', path, '--unixsocketperm', '700', '--dir', dir, '--save', '']
  args.push('--appendonly', options.appendonly === true ? 'yes' : 'no', '--daemonize', 'no', '--logfile', '')
  if (options.password !== undefined) args.push('--requirepass', options.password)
  let child: ChildProcess | undefined
  let exited: Promise<void> = Promise.resolve()

  const start = () =>
    new Promise<void>((resolve, reject) => {
      const output: string[] = []
      const started = spawn(BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'] })
      child = started
      // Killed when the test file ends, should a test that times out never stop it.
      track(started)
      exited = new Promise((done) => started.once('exit', () => done()))
      started.once('error', reject)
      started.once('exit', (code, signal) => reject(new Error(`redis-server exited (${code ?? signal}):\n${output.join('\n')}`)))
      createInterface({ input: started.stderr! }).on('line', (line) => output.push(line))
      createInterface({ input: started.stdout! }).on('line', (line) => {
        output.push(line)
        if (/ready to accept connections/i.test(line)) resolve()
      })
    })

  const stop = async () => {
    if (child === undefined) return
    child.kill('SIGTERM')
    await exited
    child = undefined
  }

  await start()
  const query = options.password === undefined ? '' : `?password=${encodeURIComponent(options.password)}`
  return {
    path,
    url: `${path}${query}`,
    get running() {
      return child !== undefined
    },
    stop,
    start,
    signal: (signal) => void child?.kill(signal),
    command: (...command: string[]) =>
      new Promise((resolve, reject) => {
        const auth = options.password === undefined ? [] : ['--no-auth-warning', '-a', options.password]
        execFile('redis-cli', ['-s', path, ...auth, ...command], (error, stdout) =>
          error ? reject(error) : resolve(stdout.trim()),
        )
      }),
    [Symbol.asyncDispose]: async () => {
      child?.kill('SIGKILL')
      await exited
      await rm(dir, { recursive: true, force: true })
    },
  }
}
