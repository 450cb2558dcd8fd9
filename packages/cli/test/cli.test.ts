import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { APPSPACE, cliEnv, runCli, startCli, startServer, tempSocketRoot, type LineProcess } from './processes.js'

describe('ipc-state against a running server', () => {
  let folder: Awaited<ReturnType<typeof tempSocketRoot>>
  let server: LineProcess
  let env: Record<string, string>

  beforeAll(async () => {
    folder = await tempSocketRoot()
    server = await startServer(folder.socketRoot)
    env = cliEnv(folder.socketRoot)
  })
  afterAll(async () => {
    await server?.[Symbol.asyncDispose]()
    await folder?.[Symbol.asyncDispose]()
  })

  it('get --json prints the state as one line of JSON', async () => {
    const run = await runCli(['get', '--json'], env)
    expect(run).toMatchObject({ code: 0, stderr: '' })
    expect(run.stdout).toBe('{"counter":0,"messages":[]}')
  })

  it('call increment 5 prints the new counter, and get reads a path of the new state', async () => {
    expect(await runCli(['call', 'increment', '5'], env)).toMatchObject({ code: 0, stdout: '5', stderr: '' })
    expect(await runCli(['get', 'counter'], env)).toMatchObject({ code: 0, stdout: '5' })
  })

  it('call with input that fails the schema exits 1 with BAD_ARGUMENTS and its issues', async () => {
    const run = await runCli(['call', 'increment', '"x"'], env)
    expect(run.code).toBe(1)
    expect(run.stdout).toBe('')
    const [first, ...issues] = run.stderr.split('\n')
    expect(first).toMatch(/^error: \[BAD_ARGUMENTS\] /)
    expect(issues.length).toBeGreaterThan(0)
    expect(issues[0]).toMatch(/^ {2}- input: /)
  })

  it('call with a bare word is a usage error that says to quote it as JSON', async () => {
    const run = await runCli(['call', 'addMessage', 'hello'], env)
    expect(run.code).toBe(2)
    expect(run.stderr).toBe(
      `error: input "hello" is not JSON: give it as JSON, a string in double quotes inside shell quotes ('"hello"')`,
    )
  })

  it('watch --json prints a line for a change made by another process, and exits 0 on SIGTERM', async () => {
    const watch = startCli(['watch', 'messages', '--json'], env)
    // The first line is the value when watching began: from then on every change is printed.
    const current = JSON.parse(await watch.waitForLine(() => true)) as Record<string, unknown>
    expect(current).toMatchObject({ reason: 'current', value: [] })
    expect(await runCli(['call', 'addMessage', '"hi"'], env)).toMatchObject({ code: 0, stdout: '1' })
    const changed = JSON.parse(await watch.waitForLine((line) => line.includes('"reason":"change"'))) as Record<string, unknown>
    expect(changed).toMatchObject({
      reason: 'change',
      version: (current.version as number) + 1,
      action: 'addMessage',
      clientId: expect.stringMatching(/^ipc-state-cli-/),
      value: [{ id: 1, text: 'hi' }],
    })
    expect(typeof changed.time).toBe('string')
    watch.child.kill('SIGTERM')
    expect(await watch.exited).toBe(0)
  })

  it('ping prints the round trip, epoch and version', async () => {
    const run = await runCli(['ping', '--json'], env)
    expect(run.code).toBe(0)
    expect(JSON.parse(run.stdout)).toMatchObject({ ms: expect.any(Number), epoch: expect.any(String), version: 2 })
  })

  it('watch prints the action and the client of each change', async () => {
    const watch = startCli(['watch', 'counter'], env)
    await watch.waitForLine((line) => line.includes('(current)'))
    await runCli(['call', 'increment', '1'], env)
    const changed = await watch.waitForLine((line) => line.includes(' v3 '))
    expect(changed).toMatch(/ v3 increment by ipc-state-cli-\S+ 6$/)
    watch.child.kill('SIGTERM')
    expect(await watch.exited).toBe(0)
  })

  it('stats --json prints what the server says of itself on one line', async () => {
    const run = await runCli(['stats', '--json'], env)
    expect(run).toMatchObject({ code: 0, stderr: '' })
    expect(run.stdout.split('\n')).toHaveLength(1)
    const info = JSON.parse(run.stdout) as Record<string, unknown>
    expect(info).toMatchObject({
      protocol: 1,
      epoch: expect.any(String),
      version: 3,
      path: expect.stringContaining('cli.'),
      uptimeMs: expect.any(Number),
      connectionCount: 1,
      connections: [{ clientId: expect.stringMatching(/^ipc-state-cli-/), replica: false, inFlight: 0 }],
      counters: { calls: 3, changes: 3 },
      limits: { maxConnections: expect.any(Number), maxInFlight: expect.any(Number) },
    })
  })

  it('--path reaches the server by its socket file alone, and --client-id is the id actions see', async () => {
    const path = `${folder.socketRoot}${APPSPACE}srv`
    const run = await runCli(['stats', '--json', '--path', path, '--client-id', 'worker-7'], {})
    expect(run).toMatchObject({ code: 0, stderr: '' })
    expect(JSON.parse(run.stdout)).toMatchObject({ path, connections: [{ clientId: 'worker-7' }] })
  })

  it('stats prints a summary of the server', async () => {
    const run = await runCli(['stats'], env)
    expect(run).toMatchObject({ code: 0, stderr: '' })
    expect(run.stdout).toMatch(/^\S*cli\.\S+ protocol 1$/m)
    expect(run.stdout).toMatch(/^ {2}version +3$/m)
    expect(run.stdout).toMatch(/^ {2}calls +3$/m)
    expect(run.stdout).toMatch(/^ {2}changes +3$/m)
    expect(run.stdout).toMatch(/^ {2}actions +2 \(ipc-state actions lists them\)$/m)
    expect(run.stdout).toMatch(/^ {2}connections +1$/m)
    expect(run.stdout).toMatch(/^ {4}ipc-state-cli-\S+ \(.+\): no replica, 0 in flight, 0 B queued \(this command\)$/m)
  })
})

describe('ipc-state against a server made with the library defaults', () => {
  it('reaches it given only its --id, in the folder and appspace connect() uses', async () => {
    // The library's own folder ($XDG_RUNTIME_DIR/ipc-state/ or <tmpdir>/ipc-state-<uid>/) is shared: a fresh id.
    const id = `cli-${randomUUID().slice(0, 8)}`
    await using server = await startServer(undefined, id)
    const ready = JSON.parse(server.stdout[0]!) as { path: string }
    expect(ready.path).toMatch(new RegExp(`/ipc-state(-\\d+)?/app\\.${id}$`))
    const stats = await runCli(['--id', id, 'stats', '--json'], {})
    expect(stats).toMatchObject({ code: 0, stderr: '' })
    expect(JSON.parse(stats.stdout)).toMatchObject({ path: ready.path })
    expect(await runCli(['call', 'increment', '2', '--id', id], {})).toMatchObject({ code: 0, stdout: '2', stderr: '' })
    expect(await runCli(['get', 'counter'], { IPC_STATE_ID: id })).toMatchObject({ code: 0, stdout: '2', stderr: '' })
  })

  it('asks for the server id when none is given, as a usage error', async () => {
    const run = await runCli(['get'], {})
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(/^error: which server\? give its --id/)
  })
})

describe('ipc-state without a server', () => {
  it('says in one line which path has no server, and exits 1', async () => {
    await using folder = await tempSocketRoot()
    const run = await runCli(['get', '--socket-root', folder.socketRoot, '--appspace', APPSPACE, '--id', 'none'], {})
    expect(run.code).toBe(1)
    expect(run.stdout).toBe('')
    expect(run.stderr).toBe(
      `error: no server at ${folder.socketRoot}${APPSPACE}none: start the server first, or point --socket-root, --appspace and --id (or IPC_STATE_SOCKET_ROOT, IPC_STATE_APPSPACE, IPC_STATE_ID) at it, or --path at its socket`,
    )
  })

  it('--help exits 0 for the program and each command; an unknown command is a usage error', async () => {
    for (const args of [
      ['--help'],
      ['get', '--help'],
      ['call', '--help'],
      ['ping', '--help'],
      ['stats', '--help'],
      ['actions', '--help'],
      ['watch', '--help'],
    ]) {
      const run = await runCli(args, {})
      expect(run.code, args.join(' ')).toBe(0)
      expect(run.stdout).toMatch(/^Usage: ipc-state/)
    }
    // A reader that stops at once (`ipc-state --help | head -1`): the bin ends quietly, with no EPIPE trace.
    const cut = startCli(['--help'], {})
    cut.child.stdout?.destroy()
    expect(await cut.exited).toBe(0)
    expect(cut.stderr.join('\n')).toBe('')
    const unknown = await runCli(['frobnicate'], {})
    expect(unknown).toMatchObject({ code: 2, stderr: "error: unknown command 'frobnicate' (see ipc-state --help)" })
  })
})
