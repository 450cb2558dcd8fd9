import { spawnSync } from 'node:child_process'
import { lstat, readdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { run, SOCKET_NAME, tempSocketRoot } from './run-demo.js'

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url))
const hasPnpm = spawnSync('pnpm', ['--version'], { stdio: 'ignore' }).status === 0

const runMain = (socketRoot: string, options?: { detached?: boolean }) =>
  run(process.execPath, ['--import', 'tsx', 'src/main.ts'], socketRoot, options)

/** The pids the orchestrator reported for the processes it started. */
function childPids(lines: string[]): Map<string, number> {
  const pids = new Map<string, number>()
  for (const line of lines) {
    const match = /^\[main\] started (\w+) \(pid (\d+)\)$/.exec(line)
    if (match) pids.set(match[1]!, Number(match[2]))
  }
  return pids
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH'
  }
}

/** What the seed-style client printed, without the `[client] ` prefixes. */
function clientOutput(lines: string[]): string {
  return lines
    .filter((line) => line.startsWith('[client] '))
    .map((line) => line.slice('[client] '.length))
    .join('\n')
}

function expectFullRun(lines: string[], socketPath: string): void {
  const output = lines.join('\n')
  expect(output).toContain(`[server] ready: listening at ${socketPath}`)
  // The seed's client print: the whole shared data, five increments and five messages.
  const client = clientOutput(lines)
  expect(client).toMatch(/^Shared data: \{\n {2}counter: 5,\n {2}messages: \[/m)
  expect(client.match(/\{ id: \d, text: 'Merhaba! message \d of 5', from: 'writer-[0-9a-f]{8}', at: \d+ \}/g)).toHaveLength(5)
  expect(client).toContain('counter 5, 5 messages; disconnecting')
  // The watcher saw every version after the one it started from, once each, in order: ten changes,
  // and the writer and the incrementer joining and leaving (its own join may come before it watched).
  const from = Number(/^\[watcher\] watching .* as watcher-[0-9a-f]{8} from version (\d+) /m.exec(output)?.[1])
  const done = Number(/^\[watcher\] done at version (\d+): counter 5, 5 messages, 1 client connected$/m.exec(output)?.[1])
  const versions = lines.flatMap((line) => {
    const match = /^\[watcher\] v(\d+) /.exec(line)
    return match ? [Number(match[1])] : []
  })
  expect(versions).toEqual(Array.from({ length: done - from }, (_, i) => from + 1 + i))
  // Its own join, the two others joining and leaving, five messages and five increments.
  expect(done).toBe(15)
  expect(output).toMatch(/^\[watcher\] v\d+ counter 4 -> 5$/m)
  expect(output).toMatch(/^\[watcher\] v\d+ message #5 from writer-[0-9a-f]{8}: "Merhaba! message 5 of 5"$/m)
  for (const role of ['writer', 'incrementer']) {
    for (const what of ['joined', 'left']) {
      expect(output).toMatch(new RegExp(`^\\[watcher\\] v\\d+ ${role}-[0-9a-f]{8} ${what} \\(\\d clients? connected\\)$`, 'm'))
    }
  }
  expect(output).toContain('[server] closed: ')
  expect(output).toContain('[main] done: every process ended cleanly and the socket file is gone')
}

describe('pnpm dev (src/main.ts)', () => {
  it('runs the demo end to end, exits 0 and leaves no socket file', async () => {
    await using root = await tempSocketRoot()
    await using main = runMain(root.dir)
    const exit = await main.exited
    expect(exit, main.output()).toEqual({ code: 0, signal: null })
    expectFullRun(main.lines, root.socketPath)
    expect([...childPids(main.lines).keys()]).toEqual(['server', 'watcher', 'writer', 'incrementer', 'client'])
    for (const pid of childPids(main.lines).values()) expect(isAlive(pid)).toBe(false)
    expect(await readdir(root.dir)).toEqual([])
  })

  it.skipIf(!hasPnpm)('runs through `pnpm run dev` in apps/demo', async () => {
    await using root = await tempSocketRoot()
    await using dev = run('pnpm', ['run', 'dev'], root.dir)
    const exit = await dev.exited
    expect(exit, dev.output()).toEqual({ code: 0, signal: null })
    expectFullRun(dev.lines, root.socketPath)
    expect(await readdir(root.dir)).toEqual([])
  })

  it('on SIGINT stops every process it started and exits 0', async () => {
    await using root = await tempSocketRoot()
    await using main = runMain(root.dir)
    // The live part is under way: writer and incrementer are running.
    await main.waitForLine(/^\[watcher\] v\d+ (counter|message) /)
    main.child.kill('SIGINT')
    const exit = await main.exited
    expect(exit, main.output()).toEqual({ code: 0, signal: null })
    expect(main.output()).toContain('[main] SIGINT: stopping every process')
    expect(main.output()).toContain('[main] stopped by SIGINT: every process ended and the socket file is gone')
    expect(main.output()).not.toContain('[main] started client')
    const pids = childPids(main.lines)
    expect(pids.has('server')).toBe(true)
    for (const pid of pids.values()) expect(isAlive(pid)).toBe(false)
    expect(await readdir(root.dir)).toEqual([])
  })

  // Ctrl-C reaches pnpm, its shell and the program; pnpm sends the shell one more SIGINT. Its
  // scripts `exec` the program, so the program's own clean stop is the exit pnpm reports.
  const stoppedDemo = '[main] stopped by SIGINT: every process ended and the socket file is gone'
  it.skipIf(!hasPnpm).each([
    ['--filter @ipc-state/demo run dev', ['--filter', '@ipc-state/demo', 'run', 'dev'], /^\[watcher\] watching /, stoppedDemo],
    ['--filter @ipc-state/demo run server', ['--filter', '@ipc-state/demo', 'run', 'server'], /^ready: /, 'closed: '],
    // The repository's `pnpm dev`: turbo between pnpm and the demo.
    ['dev at the repository root', ['--dir', repoRoot, 'dev'], /\[watcher\] watching /, stoppedDemo],
  ])('stops quietly on Ctrl-C through `pnpm %s`', async (_name, args, ready, stopped) => {
    await using root = await tempSocketRoot()
    await using pnpm = run('pnpm', args, root.dir, { detached: true })
    await pnpm.waitForLine(ready)
    process.kill(-pnpm.child.pid!, 'SIGINT')
    expect(await pnpm.exited, pnpm.output()).toEqual({ code: 0, signal: null })
    expect(pnpm.output()).toContain(stopped)
    expect(pnpm.output()).not.toMatch(/ERR_PNPM|ELIFECYCLE|Command failed/)
    expect(await readdir(root.dir)).toEqual([])
  })

  it('on Ctrl-C (SIGINT to the whole process group) stops cleanly', async () => {
    await using root = await tempSocketRoot()
    await using main = runMain(root.dir, { detached: true })
    await main.waitForLine(/^\[watcher\] watching /)
    process.kill(-main.child.pid!, 'SIGINT')
    const exit = await main.exited
    expect(exit, main.output()).toEqual({ code: 0, signal: null })
    for (const pid of childPids(main.lines).values()) expect(isAlive(pid)).toBe(false)
    expect(main.output()).toContain('[server] closed: ')
    expect(await readdir(root.dir)).toEqual([])
  })

  it('reports a server that cannot start, exits 1 and leaves the other server alone', async () => {
    await using root = await tempSocketRoot()
    await using first = run(process.execPath, ['--import', 'tsx', 'src/server.ts'], root.dir)
    await first.waitForLine(/^ready: /)
    await using main = runMain(root.dir)
    const exit = await main.exited
    expect(exit, main.output()).toEqual({ code: 1, signal: null })
    expect(main.output()).toMatch(/^\[server\] error: the server could not start at .*: \[ADDRESS_IN_USE\] /m)
    expect(main.output()).toContain('[main] failed: the server ended early, with code 1')
    expect(main.output()).not.toContain('[main] started watcher')
    // The running server's socket is untouched, and it still closes cleanly.
    expect((await lstat(root.socketPath)).isSocket()).toBe(true)
    first.child.kill('SIGTERM')
    expect(await first.exited).toEqual({ code: 0, signal: null })
    expect(await readdir(root.dir)).toEqual([])
  })
})

describe('src/server.ts', () => {
  it('prints its ready line, serves until SIGTERM, then exits 0 and removes its socket', async () => {
    await using root = await tempSocketRoot()
    await using server = run(process.execPath, ['--import', 'tsx', 'src/server.ts'], root.dir)
    const ready = await server.waitForLine(/^ready: /)
    expect(ready).toMatch(new RegExp(`^ready: listening at ${root.socketPath} \\(epoch [0-9a-f-]{36}\\); state kept in memory$`))
    expect((await lstat(root.socketPath)).isSocket()).toBe(true)
    server.child.kill('SIGTERM')
    expect(await server.exited, server.output()).toEqual({ code: 0, signal: null })
    expect(server.lines).toContain(`closed: ${root.socketPath} removed`)
    expect(await readdir(root.dir)).toEqual([])
  })

  it('keeps the state in IPC_STATE_DATA_DIR across a SIGKILL, continuing at its version and epoch', async () => {
    await using root = await tempSocketRoot()
    const env = { IPC_STATE_DATA_DIR: `${root.dir}/data`, IPC_STATE_FSYNC: 'always' }
    const serverArgs = ['--import', 'tsx', 'src/server.ts']
    await using first = run(process.execPath, serverArgs, root.dir, { env })
    const ready = await first.waitForLine(/^ready: /)
    expect(ready).toContain(`state kept in ${root.dir}/data (fsync always), at version 0`)
    const epoch = /epoch ([0-9a-f-]{36})/.exec(ready)![1]
    await using incrementer = run(
      process.execPath,
      ['--import', 'tsx', 'src/incrementer.ts', '--count', '3', '--by', '2'],
      root.dir,
    )
    expect(await incrementer.exited, incrementer.output()).toEqual({ code: 0, signal: null })
    first.child.kill('SIGKILL')
    await first.exited
    await using second = run(process.execPath, serverArgs, root.dir, { env })
    const again = await second.waitForLine(/^ready: /)
    expect(again).toContain(`(epoch ${epoch})`)
    // The incrementer's join and three increments, and its leave when the server wrote it before
    // the kill (a goodbye is not answered, so the incrementer may exit first).
    expect(again).toMatch(/at version [45]$/)
    await using reader = run(process.execPath, ['--import', 'tsx', 'src/client.ts'], root.dir)
    expect(await reader.exited, reader.output()).toEqual({ code: 0, signal: null })
    expect(reader.output()).toContain('counter 6')
    second.child.kill('SIGTERM')
    expect(await second.exited, second.output()).toEqual({ code: 0, signal: null })
  })

  it('shares one store between two servers through Redis with IPC_STATE_REDIS_URL', async () => {
    await using root = await tempSocketRoot()
    const redisSocket = `${root.dir}/redis.sock`
    // A real redis-server on a socket in the test's folder, no TCP port, nothing saved.
    await using redis = run('redis-server', ['--port', '0', '--unixsocket', redisSocket, '--save', '', '--dir', root.dir], root.dir)
    await redis.waitForLine(/ready to accept connections/i)
    const serverArgs = ['--import', 'tsx', 'src/server.ts']
    const env = (id: string) => ({ IPC_STATE_REDIS_URL: redisSocket, IPC_STATE_ID: id })
    await using a = run(process.execPath, serverArgs, root.dir, { env: env('server-a') })
    await using b = run(process.execPath, serverArgs, root.dir, { env: env('server-b') })
    expect(await a.waitForLine(/^ready: /)).toContain('state kept in Redis (key ipc-state:demo), shared, at version 0')
    await b.waitForLine(/^ready: /)
    await using incrementer = run(
      process.execPath,
      ['--import', 'tsx', 'src/incrementer.ts', '--count', '3', '--by', '2'],
      root.dir,
      {
        env: { IPC_STATE_ID: 'server-a' },
      },
    )
    expect(await incrementer.exited, incrementer.output()).toEqual({ code: 0, signal: null })
    // Read through the other server.
    await using reader = run(process.execPath, ['--import', 'tsx', 'src/client.ts'], root.dir, {
      env: { IPC_STATE_ID: 'server-b' },
    })
    expect(await reader.exited, reader.output()).toEqual({ code: 0, signal: null })
    expect(reader.output()).toContain('counter 6')
    for (const server of [a, b]) {
      server.child.kill('SIGTERM')
      expect(await server.exited, server.output()).toEqual({ code: 0, signal: null })
    }
  })

  it('refuses an unknown IPC_STATE_FSYNC, exiting 1 with the reason', async () => {
    await using root = await tempSocketRoot()
    await using server = run(process.execPath, ['--import', 'tsx', 'src/server.ts'], root.dir, {
      env: { IPC_STATE_DATA_DIR: `${root.dir}/data`, IPC_STATE_FSYNC: 'sometimes' },
    })
    expect(await server.exited).toEqual({ code: 1, signal: null })
    expect(server.output()).toContain('IPC_STATE_FSYNC must be always, interval or off')
  })

  it('creates a missing socket folder', async () => {
    await using root = await tempSocketRoot()
    const nested = `${root.dir}/nested`
    await using server = run(process.execPath, ['--import', 'tsx', 'src/server.ts'], nested)
    await server.waitForLine(/^ready: /)
    expect((await lstat(`${nested}/${SOCKET_NAME}`)).isSocket()).toBe(true)
    server.child.kill('SIGINT')
    expect(await server.exited, server.output()).toEqual({ code: 0, signal: null })
    expect(await readdir(nested)).toEqual([])
  })
})
