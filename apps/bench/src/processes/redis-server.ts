// Redis instances of the run: found on the PATH, started on a Unix socket in the run's temporary
// folder with no TCP port and no RDB saves, their files in a folder of their own there.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { createInterface } from 'node:readline'

/** Redis's AOF settings: `appendonly no`, or `appendonly yes` with this `appendfsync`. */
export type AofMode = 'none' | 'always' | 'everysec' | 'no'

/** A running redis-server. */
export interface RedisInstance {
  /** Its Unix socket. */
  readonly path: string
  /** Its folder (the AOF is in `appendonlydir` inside). */
  readonly dir: string
  /** Milliseconds from spawning the process to its "Ready to accept connections" line. */
  readonly readyMs: number
  /** SIGTERM, then waits for its exit (Redis writes out its AOF first). */
  stop(): Promise<void>
}

/** The redis-server binary on the PATH and its version, or undefined when there is none. */
export function findRedisServer(): { binary: string; version: string } | undefined {
  try {
    const binary = execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim()
    const version = /v=(\S+)/.exec(execFileSync(binary, ['--version'], { encoding: 'utf8' }))?.[1] ?? 'unknown'
    return binary === '' ? undefined : { binary, version }
  } catch {
    return undefined
  }
}

const live = new Set<ChildProcess>()
const START_TIMEOUT_MS = 120_000

/**
 * Starts redis-server with its files in `dir` (made when missing) and its socket at `path`, and resolves once it
 * says it is ready. @throws Error when it exits first, or is not ready within two minutes
 */
export function startRedis(binary: string, options: { path: string; dir: string; aof: AofMode }): Promise<RedisInstance> {
  mkdirSync(options.dir, { recursive: true, mode: 0o700 })
  const aof =
    options.aof === 'none'
      ? ['--appendonly', 'no']
      : ['--appendonly', 'yes', '--appendfsync', options.aof, '--auto-aof-rewrite-percentage', '0']
  const args = ['--save', '', '--port', '0', '--unixsocket', options.path, '--unixsocketperm', '700']
  args.push('--dir', options.dir, '--logfile', '', '--daemonize', 'no', ...aof)
  const begin = performance.now()
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  live.add(child)
  const output: string[] = []
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve(void live.delete(child))))
  let timer: NodeJS.Timeout | undefined
  return new Promise((resolve, reject) => {
    // Not a wait for readiness: a bound on how long a start may take before the run gives up.
    timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`redis-server did not get ready within ${START_TIMEOUT_MS} ms:\n${output.join('\n')}`))
    }, START_TIMEOUT_MS)
    child.once('error', reject)
    child.once('exit', (code, signal) => reject(new Error(`redis-server exited (${code ?? signal}):\n${output.join('\n')}`)))
    createInterface({ input: child.stderr! }).on('line', (line) => output.push(line))
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line)
      // "Ready to accept connections" (TCP), "ready to accept connections at <socket>" (Unix socket only)
      if (!/ready to accept connections/i.test(line)) return
      clearTimeout(timer)
      const readyMs = performance.now() - begin
      resolve({
        path: options.path,
        dir: options.dir,
        readyMs,
        async stop() {
          if (live.has(child)) child.kill('SIGTERM')
          await exited
        },
      })
    })
  })
}

/** Kills every redis-server this run started that is still running. Safe in an `exit` handler. */
export function killAllRedis(): void {
  for (const child of live) child.kill('SIGKILL')
}
