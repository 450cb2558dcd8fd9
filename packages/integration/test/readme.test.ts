import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const execute = promisify(execFile)
const root = fileURLToPath(new URL('../../../', import.meta.url))
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')

const blocksOf = (text: string): string[] => [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!)

const tsBlocks = async (file: string): Promise<string[]> => blocksOf(await readFile(join(root, file), 'utf8'))

/** The TypeScript blocks of one `## ` section of a README, in order. */
async function sectionBlocks(file: string, heading: string): Promise<string[]> {
  const text = await readFile(join(root, file), 'utf8')
  const start = text.indexOf(`\n## ${heading}\n`)
  if (start === -1) throw new Error(`${file} has no section "${heading}"`)
  const end = text.indexOf('\n## ', start + 1)
  return blocksOf(text.slice(start, end === -1 ? undefined : end))
}

/**
 * Type-checks README examples as files of one small project (`store.ts`, `server.ts`, `client.ts`
 * import each other as the examples do), resolved against the built packages; then `run`, given
 * the folder, may run what tsc emitted in its `out` folder.
 */
async function typecheck(files: Record<string, string>, run?: (dir: string) => Promise<void>): Promise<void> {
  // Inside this package, so the examples resolve @ipc-state/* through its node_modules.
  const dir = await mkdtemp(fileURLToPath(new URL('../.readme-', import.meta.url)))
  try {
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: join(root, 'tsconfig.base.json'),
        // Emitted only for the examples that run.
        compilerOptions: { types: ['node'], noEmit: false, outDir: 'out', declaration: false, sourceMap: false },
        include: ['*.ts'],
      }),
    )
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text)
    await execute(process.execPath, [tsc, '-p', dir]).catch((error: { stdout?: string }) => {
      throw new Error(`the examples do not compile:\n${error.stdout ?? String(error)}`)
    })
    await run?.(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

describe('README examples compile against the packages', () => {
  it('the root README: store, server and client', async () => {
    const [store, server, client] = await tsBlocks('README.md')
    expect(client).toBeDefined()
    await typecheck({ 'store.ts': store!, 'server.ts': server!, 'client.ts': client! })
  })

  it('the package READMEs: the protocol store used by the server and client examples', async () => {
    const [store] = await tsBlocks('packages/protocol/README.md')
    const [server, persisted, contract] = await tsBlocks('packages/server/README.md')
    const [client] = await tsBlocks('packages/client/README.md')
    expect(contract).toContain('defineStorageContract')
    const [serverTypes, testing, workerThreads, web] = await sectionBlocks('packages/server/README.md', 'Transports')
    const [clientTypes, worker, page] = await sectionBlocks('packages/client/README.md', 'Transports')
    expect(web).toContain('listenWebSocket')
    expect(page).toContain('@ipc-state/client/browser')
    const [presence] = await sectionBlocks('packages/server/README.md', 'Clients joining and leaving')
    const [metrics] = await sectionBlocks('packages/server/README.md', 'Metrics')
    const [failover] = await sectionBlocks('packages/client/README.md', 'Reconnecting')
    expect(failover).toContain('failover:')
    await typecheck(
      {
        'store.ts': store!,
        'server.ts': server!,
        'persisted.ts': persisted!,
        'storage-contract.ts': contract!,
        'client.ts': client!,
        'server-types.ts': serverTypes!,
        'client-types.ts': clientTypes!,
        'testing.ts': testing!,
        'worker-threads.ts': workerThreads!,
        'web.ts': web!,
        'worker.ts': worker!,
        'page.ts': page!,
        'presence.ts': presence!,
        'metrics.ts': metrics!,
        'failover.ts': failover!,
      },
      async (dir) => {
        // The server's testing example runs in one process, without a socket.
        const { stdout } = await execute(process.execPath, [join(dir, 'out', 'testing.js')], { cwd: dir, timeout: 60_000 })
        expect(stdout.trim()).toBe('2 2')
      },
    )
  })
})

describe('the root README: "Checking inputs: Standard Schema"', () => {
  it('compiles, and a client passes what the schema accepts', async () => {
    const [chat] = await sectionBlocks('README.md', 'Checking inputs: Standard Schema')
    expect(chat).toMatch(/^\/\/ chat-store\.ts/)
    // What the block's last line says of a client, checked: a right input compiles, a wrong one does not.
    const client = [
      "import { connect } from '@ipc-state/client'",
      "import type { chatStore } from './chat-store.js'",
      '',
      "await using client = await connect<typeof chatStore>({ id: 'chat' })",
      "const count: number = await client.actions.send({ text: 'hi' })",
      "await client.actions.send({ text: 'pinned', pinned: true })",
      '// @ts-expect-error the schema takes a string',
      'await client.actions.send({ text: 42 })',
      'console.log(count)',
    ].join('\n')
    await typecheck({ 'chat-store.ts': chat!, 'chat-client.ts': client })
  })
})

describe('the root README: "Writing a transport"', () => {
  it('compiles against the packages, and runs a server and two clients over its TCP transport', async () => {
    const [store] = await tsBlocks('README.md')
    const [transport, main] = await sectionBlocks('README.md', 'Writing a transport')
    expect(main).toBeDefined()
    await typecheck({ 'store.ts': store!, 'tcp-transport.ts': transport!, 'main.ts': main! }, async (dir) => {
      const { stdout } = await execute(process.execPath, [join(dir, 'out', 'main.js')], { cwd: dir, timeout: 60_000 })
      // The server's name, bob's replica after both calls, and the state alice reads from the server.
      expect(stdout.trim()).toBe('tcp loopback 5 5')
    })
  })
})

describe('the root README: "Worker pools: a job queue"', () => {
  it('shows the files of examples/job-queue as they are, which its test runs, killing a worker', async () => {
    const shown = await sectionBlocks('README.md', 'Worker pools: a job queue')
    const files = await Promise.all(
      ['store', 'server', 'worker'].map((name) => readFile(join(root, `examples/job-queue/${name}.ts`), 'utf8')),
    )
    expect(shown).toEqual(files)
  })
})
