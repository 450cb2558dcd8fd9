// Helpers for installing the packed libraries into a fresh npm project outside the workspace, as a
// newcomer does, and for running the README examples there as separate processes.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { readFile, readdir } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)

export const workspaceRoot = fileURLToPath(new URL('../../../', import.meta.url))

/** The published libraries, in the order they depend on each other. */
export const LIBRARIES = ['protocol', 'server', 'client'] as const

// Settings a newcomer's shell has too: where the registry is and how to reach it.
const KEPT_NPM_SETTINGS = new Set(
  ['registry', 'cafile', 'cache', 'userconfig', 'proxy', 'https_proxy', 'noproxy', 'strict_ssl'].map(
    (name) => `npm_config_${name}`,
  ),
)

/**
 * The environment of a shell outside the workspace. Under `pnpm test`, NODE_PATH points into the
 * workspace's node_modules (the examples would resolve packages a fresh project does not have), and
 * pnpm passes its workspace settings as `npm_config_*` (`recursive`, `catalog`…), which npm does not
 * know and pnpm itself would obey.
 */
export function newcomerEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env }
  delete env.NODE_PATH
  for (const key of Object.keys(env)) {
    if (/^(npm|pnpm)_/.test(key) && !KEPT_NPM_SETTINGS.has(key)) delete env[key]
    if (key.startsWith('PNPM_')) delete env[key]
  }
  return env
}

/**
 * How to run pnpm: the one running this test when there is one (`pnpm test`, also through turbo,
 * sets npm_execpath to it), otherwise the version the workspace names in `packageManager`, via npx.
 */
async function pnpmCommand(): Promise<{ file: string; args: string[] }> {
  const execpath = process.env.npm_execpath
  if (execpath !== undefined && basename(execpath).startsWith('pnpm')) {
    return /\.[cm]?js$/.test(execpath) ? { file: process.execPath, args: [execpath] } : { file: execpath, args: [] }
  }
  const { packageManager } = JSON.parse(await readFile(join(workspaceRoot, 'package.json'), 'utf8')) as { packageManager: string }
  return { file: 'npx', args: ['--yes', packageManager] }
}

/**
 * Packs the built libraries into `destination` with `pnpm pack`, which turns `workspace:^` into
 * the version range a published package carries. Returns the tarballs' paths.
 */
export async function packLibraries(destination: string): Promise<string[]> {
  const pnpm = await pnpmCommand()
  await Promise.all(
    LIBRARIES.map((name) =>
      run(pnpm.file, [...pnpm.args, 'pack', '--pack-destination', destination], {
        cwd: join(workspaceRoot, 'packages', name),
        env: newcomerEnv(),
        timeout: 60_000,
      }),
    ),
  )
  const tarballs = (await readdir(destination)).filter((file) => file.endsWith('.tgz')).map((file) => join(destination, file))
  if (tarballs.length !== LIBRARIES.length) throw new Error(`expected ${LIBRARIES.length} tarballs, found ${tarballs.join(', ')}`)
  return tarballs
}

/** One package npm installed into a project's node_modules. */
export interface InstalledPackage {
  /** Its folder, relative to the project: `node_modules/<name>`, or deeper when npm nested it. */
  readonly path: string
  readonly name: string
  readonly version: string
  /**
   * What npm would run when installing it: its `preinstall`, `install` or `postinstall` script, or
   * `node-gyp rebuild` for a `binding.gyp` without an install script of its own.
   */
  readonly installScripts: string[]
}

const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall'] as const

/**
 * Every package installed in `project`, read from what npm recorded in node_modules (packages it
 * skipped, as optional ones for another platform, are not there) and from each package's manifest.
 */
export async function installedPackages(project: string): Promise<InstalledPackage[]> {
  const lock = JSON.parse(await readFile(join(project, 'node_modules/.package-lock.json'), 'utf8')) as {
    packages: Record<string, { hasInstallScript?: boolean; link?: boolean }>
  }
  return Promise.all(
    Object.keys(lock.packages).map(async (path) => {
      const manifest = JSON.parse(await readFile(join(project, path, 'package.json'), 'utf8')) as {
        name: string
        version: string
        scripts?: Record<string, string>
      }
      const installScripts: string[] = INSTALL_SCRIPTS.flatMap((name) => (manifest.scripts?.[name] === undefined ? [] : [name]))
      const gyp = await readFile(join(project, path, 'binding.gyp')).then(
        () => true,
        () => false,
      )
      if (gyp && installScripts.length === 0) installScripts.push('node-gyp rebuild')
      if (lock.packages[path]!.hasInstallScript === true && installScripts.length === 0) installScripts.push('hasInstallScript')
      return { path, name: manifest.name, version: manifest.version, installScripts }
    }),
  )
}

/** `npm install` in `project`, in a newcomer's environment. */
export async function npmInstall(project: string, specs: string[]): Promise<void> {
  await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...specs], {
    cwd: project,
    env: newcomerEnv(),
    timeout: 200_000,
  })
}

/** The fenced code blocks of `markdown` in `language` whose first line is `// <name>`, by name. */
export function namedBlocks(markdown: string, language: string): Map<string, string> {
  const blocks = new Map<string, string>()
  for (const [, code] of markdown.matchAll(new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, 'g'))) {
    const name = /^\/\/ ([\w.-]+\.[cm]?[jt]s)\b/.exec(code!)?.[1]
    if (name === undefined) continue
    if (blocks.has(name)) throw new Error(`two \`\`\`${language} blocks are named ${name}`)
    blocks.set(name, code!)
  }
  return blocks
}

/** A Node.js process started from a script, with its output split into lines. */
export interface NodeProcess extends AsyncDisposable {
  readonly child: ChildProcess
  /** stdout and stderr, line by line, as they arrived. */
  readonly lines: string[]
  /** Resolves with the first line (already printed or still to come) that `match` accepts. */
  waitForLine(match: (line: string) => boolean): Promise<string>
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/**
 * Starts `node script` in `cwd` with a newcomer's environment, plus `env`. Disposing kills it if it
 * still runs.
 */
export function startNode(script: string, cwd: string, env: NodeJS.ProcessEnv = {}): NodeProcess {
  const child = spawn(process.execPath, [script], { cwd, env: { ...newcomerEnv(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: string[] = []
  const waiters = new Set<{ match: (line: string) => boolean; resolve(line: string): void }>()
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  const onLine = (line: string) => {
    lines.push(line)
    for (const waiter of waiters) {
      if (waiter.match(line)) {
        waiters.delete(waiter)
        waiter.resolve(line)
      }
    }
  }
  createInterface({ input: child.stdout! }).on('line', onLine)
  createInterface({ input: child.stderr! }).on('line', onLine)
  return {
    child,
    lines,
    exited,
    waitForLine(match) {
      const seen = lines.find(match)
      if (seen !== undefined) return Promise.resolve(seen)
      return new Promise((resolve, reject) => {
        waiters.add({ match, resolve })
        void exited.then((exit) =>
          reject(new Error(`${script} exited (${exit.code ?? exit.signal}) before the awaited line:\n${lines.join('\n')}`)),
        )
      })
    },
    [Symbol.asyncDispose]: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
      await exited
    },
  }
}

/** Runs `node script` in `cwd` to its end, with `env` added; resolves with its stdout lines, rejects if it failed. */
export async function runNode(script: string, cwd: string, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  // The timeout only bounds a hung example, so that no process outlives the test.
  const { stdout } = await run(process.execPath, [script], { cwd, env: { ...newcomerEnv(), ...env }, timeout: 30_000 })
  return stdout.split('\n').filter((line) => line !== '')
}
