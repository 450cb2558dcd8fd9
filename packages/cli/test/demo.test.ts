// The commands against the demo's own server (apps/demo), as a user runs them next to `pnpm dev`:
// only the socket folder is moved, so the CLI finds the demo by its default address.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type LineProcess, runCli, startCli, startDemo, tempSocketRoot } from './processes.js'

describe('ipc-state against the demo server', () => {
  let folder: Awaited<ReturnType<typeof tempSocketRoot>>
  let server: LineProcess
  let env: Record<string, string>

  beforeAll(async () => {
    folder = await tempSocketRoot()
    server = startDemo('server.ts', folder.socketRoot)
    await server.waitForLine((line) => line.startsWith('ready: '))
    env = { IPC_STATE_SOCKET_ROOT: folder.socketRoot }
  })
  afterAll(async () => {
    await server?.[Symbol.asyncDispose]()
    await folder?.[Symbol.asyncDispose]()
  })

  it('get --json prints the state', async () => {
    const run = await runCli(['get', '--json'], env)
    expect(run).toMatchObject({ code: 0, stderr: '' })
    expect(JSON.parse(run.stdout)).toEqual({ counter: 0, messages: [] })
  })

  it('call increment 5 prints the new counter', async () => {
    expect(await runCli(['call', 'increment', '5'], env)).toMatchObject({ code: 0, stdout: '5' })
    expect(await runCli(['call', 'increment', '5'], env)).toMatchObject({ code: 0, stdout: '10' })
  })

  it(`call increment '"x"' exits non-zero with BAD_ARGUMENTS, and changes nothing`, async () => {
    const run = await runCli(['call', 'increment', '"x"'], env)
    expect(run.code).toBe(1)
    expect(run.stderr.split('\n')[0]).toMatch(/^error: \[BAD_ARGUMENTS\] /)
    expect(JSON.parse((await runCli(['get', 'counter', '--json'], env)).stdout)).toBe(10)
  })

  it('watch --json prints one line per change while the demo writer runs', async () => {
    await using watch = startCli(['watch', '--json'], env)
    const current = JSON.parse(await watch.waitForLine(() => true)) as { reason: string; version: number }
    expect(current.reason).toBe('current')
    const writer = startDemo('writer.ts', folder.socketRoot, ['--count', '3'])
    expect(await writer.exited).toBe(0)
    const last = current.version + 3
    await watch.waitForLine((line) => line.includes(`"version":${last},`))
    const changes = watch.stdout.slice(1).map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(changes.map((change) => change.version)).toEqual([last - 2, last - 1, last])
    for (const change of changes) {
      expect(change).toMatchObject({ reason: 'change', action: 'addMessage', clientId: expect.stringMatching(/writer/) })
    }
    expect((changes.at(-1)!.value as { messages: { text: string }[] }).messages.map((m) => m.text)).toEqual([
      'Merhaba! message 1 of 3',
      'Merhaba! message 2 of 3',
      'Merhaba! message 3 of 3',
    ])
  })
})
