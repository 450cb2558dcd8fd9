// The commands against the demo's own server (apps/demo), as a user runs them next to `pnpm dev`:
// only the socket folder is moved, and the CLI is pointed at the socket the server's ready line names.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type LineProcess, runCli, startCli, startDemo, tempSocketRoot } from './processes.js'

describe('ipc-state against the demo server', () => {
  let folder: Awaited<ReturnType<typeof tempSocketRoot>>
  let server: LineProcess
  /** `--path` and the demo's socket, after a command's own arguments. */
  let at: string[]

  beforeAll(async () => {
    folder = await tempSocketRoot()
    server = startDemo('server.ts', folder.socketRoot)
    const ready = await server.waitForLine((line) => line.startsWith('ready: '))
    // `ready: listening at <socket> (epoch …)`
    const path = /^ready: listening at (\S+) /.exec(ready)?.[1]
    expect(path).toBe(`${folder.socketRoot}ipc-ogreniyorumserver-socket`)
    at = ['--path', path!]
  })
  afterAll(async () => {
    await server?.[Symbol.asyncDispose]()
    await folder?.[Symbol.asyncDispose]()
  })

  it('get --json prints the state', async () => {
    const run = await runCli(['get', '--json', ...at], {})
    expect(run).toMatchObject({ code: 0, stderr: '' })
    // The demo's list of clients connected holds the CLI itself, joined at its hello.
    expect(JSON.parse(run.stdout)).toEqual({
      counter: 0,
      messages: [],
      clients: [{ clientId: expect.stringMatching(/^ipc-state-cli-/), instanceId: expect.any(String) }],
    })
  })

  it("actions lists the demo's actions and what their inputs take, from their zod schemas", async () => {
    const run = await runCli(['actions', ...at], {})
    expect(run).toMatchObject({ code: 0, stderr: '' })
    expect(run.stdout.split('\n')).toEqual([
      'addMessage  string, 1 to 500 characters',
      'increment   integer, -1000000 to 1000000',
      '2 actions; --json prints their input schemas whole',
    ])
    const json = await runCli(['actions', '--json', ...at], {})
    expect(JSON.parse(json.stdout)).toEqual({
      actions: [
        {
          name: 'addMessage',
          hasInputSchema: true,
          inputSchema: { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'string', minLength: 1, maxLength: 500 },
        },
        {
          name: 'increment',
          hasInputSchema: true,
          inputSchema: {
            $schema: 'https://json-schema.org/draft/2020-12/schema',
            type: 'integer',
            minimum: -1_000_000,
            maximum: 1_000_000,
          },
        },
      ],
      actionCount: 2,
    })
  })

  it('call with a mistyped action name suggests the one meant', async () => {
    const run = await runCli(['call', 'incremnt', '1', ...at], {})
    expect(run).toMatchObject({ code: 1, stdout: '' })
    expect(run.stderr.split('\n')).toEqual([
      'error: [UNKNOWN_ACTION] The store has no action "incremnt" (did you mean "increment"?)',
      '  `ipc-state actions` lists the actions the server has',
    ])
  })

  it('call increment 5 prints the new counter', async () => {
    expect(await runCli(['call', 'increment', '5', ...at], {})).toMatchObject({ code: 0, stdout: '5' })
    expect(await runCli(['call', 'increment', '5', ...at], {})).toMatchObject({ code: 0, stdout: '10' })
  })

  it(`call increment '"x"' exits non-zero with BAD_ARGUMENTS, and changes nothing`, async () => {
    const run = await runCli(['call', 'increment', '"x"', ...at], {})
    expect(run.code).toBe(1)
    expect(run.stderr.split('\n')[0]).toMatch(/^error: \[BAD_ARGUMENTS\] /)
    expect(JSON.parse((await runCli(['get', 'counter', '--json', ...at], {})).stdout)).toBe(10)
  })

  it('watch --json prints one line per change while the demo writer runs', async () => {
    await using watch = startCli(['watch', '--json', ...at], {})
    const current = JSON.parse(await watch.waitForLine(() => true)) as { reason: string; version: number }
    expect(current.reason).toBe('current')
    const writer = startDemo('writer.ts', folder.socketRoot, ['--count', '3'])
    expect(await writer.exited).toBe(0)
    type Change = {
      version: number
      action?: string
      clientId?: string
      value: { messages: { text: string }[]; clients: { clientId: string }[] }
    }
    const writerGone = (change: Change) =>
      change.action === 'onClientLeave' && !change.value.clients.some((client) => client.clientId.startsWith('writer-'))
    // The writer said goodbye on its way out: its leave is its last change.
    await watch.waitForLine((line) => line.startsWith('{') && writerGone(JSON.parse(line) as Change))
    const changes = watch.stdout.slice(1).map((line) => JSON.parse(line) as Change)
    // Every version after the current one, in order: the writer joining, its three messages and it
    // leaving, after the watch's own join when the state it started from did not hold it yet.
    expect(changes.map((change) => change.version)).toEqual(changes.map((_, i) => current.version + 1 + i))
    const own = changes.length === 6 ? [{ action: 'onClientJoin' }] : []
    const message = { reason: 'change', action: 'addMessage', clientId: expect.stringMatching(/writer/) }
    expect(changes).toMatchObject([...own, { action: 'onClientJoin' }, message, message, message, { action: 'onClientLeave' }])
    expect(changes.at(-2)!.value.clients.map((client) => client.clientId)).toContainEqual(expect.stringMatching(/^writer-/))
    expect(changes.at(-2)!.value.messages.map((m) => m.text)).toEqual([
      'Merhaba! message 1 of 3',
      'Merhaba! message 2 of 3',
      'Merhaba! message 3 of 3',
    ])
  })
})
