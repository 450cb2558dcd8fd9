// A real redis-server on a Unix socket in a temporary folder, for the Redis log properties.
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

export interface RedisServer extends AsyncDisposable {
  /** Its socket: the URL the storage takes. */
  readonly path: string
}

/** Starts a redis-server (`redis-server` on the PATH) and resolves once it accepts connections. */
export async function startRedisServer(): Promise<RedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'ipcs-fuzz-redis-'))
  const path = join(dir, 'redis.sock')
  const args = ['--port', '0', '--unixsocket', path, '--unixsocketperm', '700', '--dir', dir, '--save', '', '--appendonly', 'no']
  const child: ChildProcess = spawn('redis-server', [...args, '--daemonize', 'no', '--logfile', ''], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  // A run that times out never reaches its disposer: the redis-server must not outlive it.
  const kill = () => child.kill('SIGKILL')
  process.once('exit', kill)
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  await new Promise<void>((resolve, reject) => {
    const output: string[] = []
    child.once('error', reject)
    child.once('exit', (code, signal) => reject(new Error(`redis-server exited (${code ?? signal}):\n${output.join('\n')}`)))
    createInterface({ input: child.stderr! }).on('line', (line) => output.push(line))
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line)
      if (/ready to accept connections/i.test(line)) resolve()
    })
  })
  return {
    path,
    [Symbol.asyncDispose]: async () => {
      process.off('exit', kill)
      kill()
      await exited
      await rm(dir, { recursive: true, force: true })
    },
  }
}
