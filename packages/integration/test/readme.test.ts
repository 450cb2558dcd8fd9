import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const root = fileURLToPath(new URL('../../../', import.meta.url))
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')

const tsBlocks = async (file: string): Promise<string[]> =>
  [...(await readFile(join(root, file), 'utf8')).matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!)

/**
 * Type-checks README examples as files of one small project (`store.ts`, `server.ts`, `client.ts`
 * import each other as the examples do), resolved against the built packages.
 */
async function typecheck(files: Record<string, string>): Promise<void> {
  // Inside this package, so the examples resolve @ipc-state/* through its node_modules.
  const dir = await mkdtemp(fileURLToPath(new URL('../.readme-', import.meta.url)))
  try {
    await writeFile(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ extends: join(root, 'tsconfig.base.json'), compilerOptions: { types: ['node'] }, include: ['*.ts'] }),
    )
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text)
    await run(process.execPath, [tsc, '-p', dir]).catch((error: { stdout?: string }) => {
      throw new Error(`the examples do not compile:\n${error.stdout ?? String(error)}`)
    })
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
    const files = { 'store.ts': store!, 'server.ts': server!, 'persisted.ts': persisted!, 'client.ts': client! }
    await typecheck({ ...files, 'storage-contract.ts': contract! })
  })
})
