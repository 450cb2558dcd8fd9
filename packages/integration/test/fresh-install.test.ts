import { execFile } from 'node:child_process'
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  installedPackages,
  namedBlocks,
  newcomerEnv,
  npmInstall,
  packLibraries,
  runNode,
  startNode,
  workspaceRoot,
} from '../src/fresh-install.js'

const run = promisify(execFile)
const require = createRequire(import.meta.url)
// The TypeScript the workspace builds with, so the newcomer's compiler moves with the catalog.
const typescriptVersion = (require('typescript/package.json') as { version: string }).version
// The @types/node the workspace builds with, for the project that has it.
const typesNodeVersion = (require('@types/node/package.json') as { version: string }).version
/** The newest TypeScript major, the native compiler, installed beside the workspace's under another name. */
const NEXT_TYPESCRIPT = 'typescript@7.0.2'

/** The socket folder the package READMEs' examples use; each test moves it into its own temporary folder. */
const README_SOCKET_ROOT = '/tmp/cem/'
const SOCKET_NAME = 'ipc-ogreniyorumserver-socket'
/** The socket file of the root README's example, which gives only an `id`, in the library's default folder. */
const DEFAULT_SOCKET = 'ipc-state/app.demo'

const readme = (path: string) => readFile(join(workspaceRoot, path), 'utf8')

/** The README block `name`, with its socket folder moved to `socketRoot` when given. */
function example(blocks: Map<string, string>, name: string, socketRoot?: string): string {
  const code = blocks.get(name)
  if (code === undefined) throw new Error(`the README has no block starting with // ${name}`)
  if (socketRoot === undefined) return code
  if (!code.includes(README_SOCKET_ROOT)) throw new Error(`${name} no longer uses ${README_SOCKET_ROOT}`)
  return code.replaceAll(README_SOCKET_ROOT, socketRoot)
}

/** The most packages installing the client, or the server, may bring, itself and the protocol included. */
const MAX_PACKAGES = 10

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  )

// A newcomer's first contact, measured end to end: the three libraries packed as npm would publish
// them, installed together into a fresh npm project outside the workspace (no workspace
// node_modules, no @types/node), the README's TypeScript compiled there under `strict` without
// skipLibCheck (with the default lib, with no DOM and no @types/node by this TypeScript and the next
// major, and in a second project with @types/node), and the README's examples run as written
// against a real server. The client and the server are also installed each alone, as an
// application that is only one of them does: what that installs is counted, and runs.
describe('a fresh npm project with the packed libraries', () => {
  let dir: string
  let app: string
  /** A second project, the same plus `@types/node`. */
  let nodeApp: string
  /** A project with the client alone (and the protocol it depends on, unpublished yet). */
  let clientApp: string
  /** A project with the server alone (and the protocol). */
  let serverApp: string
  let compiled: Promise<string> | undefined

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ipcs-fresh-'))
    app = join(dir, 'app')
    nodeApp = join(dir, 'node-app')
    clientApp = join(dir, 'client-app')
    serverApp = join(dir, 'server-app')
    const tarballs = await packLibraries(await mkdtemp(join(dir, 'tarballs-')))
    const tarball = (name: string) => tarballs.find((path) => path.includes(`ipc-state-${name}-`))!
    await Promise.all(
      [app, nodeApp, clientApp, serverApp].map(async (project) => {
        await mkdir(project)
        await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'newcomer', private: true, type: 'module' }))
      }),
    )
    // One after the other: two installs at once would race on npm's cache.
    await npmInstall(app, [...tarballs, `typescript@${typescriptVersion}`, `typescript-next@npm:${NEXT_TYPESCRIPT}`])
    await npmInstall(nodeApp, [
      ...tarballs,
      `typescript@${typescriptVersion}`,
      `typescript-next@npm:${NEXT_TYPESCRIPT}`,
      `@types/node@${typesNodeVersion}`,
    ])
    await npmInstall(clientApp, [tarball('protocol'), tarball('client')])
    await npmInstall(serverApp, [tarball('protocol'), tarball('server')])
  }, 480_000)

  afterAll(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  /** Writes the root README's TypeScript example into the project and compiles it with the project's tsc. */
  function compileRootExample(): Promise<string> {
    compiled ??= (async () => {
      const blocks = namedBlocks(await readme('README.md'), 'ts')
      for (const file of ['store.ts', 'server.ts', 'client.ts']) await writeFile(join(app, file), example(blocks, file))
      await writeFile(
        join(app, 'tsconfig.json'),
        JSON.stringify({
          // What a newcomer writes; no skipLibCheck, no lib, no types: only what the packages bring.
          compilerOptions: {
            strict: true,
            module: 'nodenext',
            moduleResolution: 'nodenext',
            target: 'es2022',
            noEmitOnError: true,
          },
          include: ['*.ts'],
        }),
      )
      // Emitting type-checks as --noEmit does, and noEmitOnError leaves no JavaScript behind an error.
      const tsc = join(app, 'node_modules/typescript/bin/tsc')
      const { stdout } = await run(process.execPath, [tsc, '-p', app], { cwd: app, env: newcomerEnv(), timeout: 120_000 }).catch(
        // A tsc stopped by the timeout printed nothing: its error must not read as a clean compile.
        (error: { stdout?: string }) => ({ stdout: error.stdout || String(error) }),
      )
      return stdout.trim()
    })()
    return compiled
  }

  it('has no @types/node, and the README TypeScript example compiles under strict without skipLibCheck', async () => {
    expect(await exists(join(app, 'node_modules/@types/node'))).toBe(false)
    expect(await compileRootExample()).toBe('')
  })

  /**
   * Compiles the root README's TypeScript example in `project` with `compiler` (its `bin/tsc`)
   * under `compilerOptions`, checking only; returns what tsc printed. `hasConsole` says whether
   * the settings bring a `console` (DOM or @types/node do).
   */
  async function checkRootExample(
    project: string,
    compiler: string,
    name: string,
    compilerOptions: object,
    hasConsole: boolean,
  ): Promise<string> {
    const blocks = namedBlocks(await readme('README.md'), 'ts')
    const folder = join(project, name)
    await mkdir(folder)
    for (const file of ['store.ts', 'server.ts', 'client.ts']) await writeFile(join(folder, file), example(blocks, file))
    if (!hasConsole) {
      // A project without DOM or @types/node has no `console` either: it declares what it uses, as this one does.
      await writeFile(join(folder, 'console.d.ts'), 'declare const console: { log(...data: unknown[]): void }\n')
    }
    await writeFile(
      join(folder, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, noEmit: true, ...compilerOptions }, include: ['*.ts'] }),
    )
    const tsc = join(project, 'node_modules', compiler, 'bin/tsc')
    const { stdout } = await run(process.execPath, [tsc, '-p', folder], {
      cwd: folder,
      env: newcomerEnv(),
      timeout: 120_000,
    }).catch((error: { stdout?: string }) => ({ stdout: error.stdout || String(error) }))
    return stdout.trim()
  }

  /** Node 20 settings as `@tsconfig/node20` gives them, with `lib` and `types` as each test says. */
  const node20 = { target: 'es2022', module: 'node16', moduleResolution: 'node16' }

  it('compiles the README TypeScript example with no DOM and no @types/node (lib es2022, types [])', async () => {
    expect(await exists(join(app, 'node_modules/@types/node'))).toBe(false)
    const settings = { ...node20, lib: ['es2022'], types: [] }
    expect(await checkRootExample(app, 'typescript', 'no-dom', settings, false)).toBe('')
    expect(await checkRootExample(app, 'typescript-next', 'no-dom-next', settings, false)).toBe('')
  })

  it('compiles the README TypeScript example with @types/node and no DOM', async () => {
    expect(await exists(join(nodeApp, 'node_modules/@types/node'))).toBe(true)
    const settings = { ...node20, lib: ['es2022'], types: ['node'] }
    expect(await checkRootExample(nodeApp, 'typescript', 'with-node', settings, true)).toBe('')
    expect(await checkRootExample(nodeApp, 'typescript-next', 'with-node-next', settings, true)).toBe('')
  })

  it.each([
    ['client', () => clientApp],
    ['server', () => serverApp],
  ])(
    'installs the %s alone in at most 10 packages, none with an install script, carrying node-ipc and its licence',
    async (name, project) => {
      const installed = await installedPackages(project())
      const names = installed.map((pkg) => `${pkg.name}@${pkg.version}`)
      expect(names).toContain(`@ipc-state/${name}@0.0.0`)
      expect(installed.length, names.join(', ')).toBeLessThanOrEqual(MAX_PACKAGES)
      expect(installed.filter((pkg) => pkg.installScripts.length > 0)).toEqual([])
      // node-ipc carries the bytes from inside the package, and msgpackr's encoder from inside the
      // protocol: neither is installed, and each licence goes with its code.
      expect(installed.map((pkg) => pkg.name)).not.toEqual(expect.arrayContaining(['node-ipc']))
      expect(installed.map((pkg) => pkg.name)).not.toEqual(expect.arrayContaining(['msgpackr']))
      const notices = (pkg: string) => readFile(join(project(), 'node_modules', pkg, 'dist/vendor/THIRD-PARTY-NOTICES.md'), 'utf8')
      const ours = await notices(`@ipc-state/${name}`)
      expect(ours).toContain('## node-ipc 12.0.0 (MIT)')
      expect(ours).toContain('Copyright (c) 2020 Brandon Nozaki Miller')
      expect(await notices('@ipc-state/protocol')).toMatch(/## msgpackr 2\.\d+\.\d+ \(MIT\)[\s\S]*Copyright \(c\) 2020 Kris Zyp/)
    },
  )

  it("runs the README's compiled server, its client (await using, compiled down) and its CommonJS client as written", async () => {
    expect(await compileRootExample()).toBe('')
    await writeFile(join(app, 'client.cjs'), example(namedBlocks(await readme('README.md'), 'js'), 'client.cjs'))
    // The examples give only an id: server and clients meet in the library's default folder, this
    // user's private runtime folder, here one of the test's own.
    const runtimeDir = await mkdtemp(join(dir, 'runtime-'))
    const env = { XDG_RUNTIME_DIR: runtimeDir }
    const socket = join(runtimeDir, DEFAULT_SOCKET)

    await using server = startNode('server.js', app, env)
    await server.waitForLine((line) => line.startsWith('listening at '))
    expect(server.lines).toContain(`listening at ${socket}`)

    expect(await runNode('client.js', app, env)).toEqual(['counter: 0', 'counter is now 2'])
    expect(await runNode('client.cjs', app, env)).toEqual(['counter: 3, messages: 1'])

    server.child.kill('SIGTERM')
    expect(await server.exited).toEqual({ code: 0, signal: null })
    expect(await exists(socket)).toBe(false)
  })

  it("runs the package READMEs' CommonJS store, server and client as written, each where only its package is installed", async () => {
    const serverJs = join(serverApp, 'js')
    const clientJs = join(clientApp, 'js')
    await mkdir(serverJs)
    await mkdir(clientJs)
    const socketRoot = `${dir}/js-sockets/`
    await writeFile(
      join(serverJs, 'store.cjs'),
      example(namedBlocks(await readme('packages/protocol/README.md'), 'js'), 'store.cjs'),
    )
    await writeFile(
      join(serverJs, 'server.cjs'),
      example(namedBlocks(await readme('packages/server/README.md'), 'js'), 'server.cjs', socketRoot),
    )
    await writeFile(
      join(clientJs, 'client.cjs'),
      example(namedBlocks(await readme('packages/client/README.md'), 'js'), 'client.cjs', socketRoot),
    )

    await using server = startNode('server.cjs', serverJs)
    await server.waitForLine((line) => line === `listening at ${socketRoot}${SOCKET_NAME}`)
    expect(await runNode('client.cjs', clientJs)).toEqual(['counter: 1, messages: 0'])
    expect(await runNode('client.cjs', clientJs)).toEqual(['counter: 2, messages: 0'])

    server.child.kill('SIGINT')
    expect(await server.exited).toEqual({ code: 0, signal: null })
    expect(await exists(`${socketRoot}${SOCKET_NAME}`)).toBe(false)
  })
})
