// The built browser entry, followed through its chunks and every package it imports as a page resolves them, reaches no Node.js module.
import { readFileSync } from 'node:fs'
import { builtinModules, createRequire } from 'node:module'
import { dirname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const CLIENT = join(dirname(fileURLToPath(import.meta.url)), '..')
/** The conditions a bundler or an import map picks for a page, in the order a page's resolver tries them. */
const PAGE_CONDITIONS = ['browser', 'import', 'default']
const BUILTINS = new Set(builtinModules)

/** Every module specifier `code` names: static imports and re-exports, side-effect imports, dynamic imports and requires. */
function specifiers(code: string): string[] {
  const patterns = [
    /\bfrom\s*["']([^"'\s]+)["']/g,
    /\bimport\s*["']([^"'\s]+)["']/g,
    /\bimport\s*\(\s*["']([^"'\s]+)["']\s*\)/g,
    /\brequire\s*\(\s*["']([^"'\s]+)["']\s*\)/g,
  ]
  return patterns.flatMap((pattern) => [...code.matchAll(pattern)].map((match) => match[1]!))
}

/** A package's `exports` target for `subpath`, under the page's conditions. */
function pickTarget(target: unknown): string | undefined {
  if (typeof target === 'string') return target
  if (typeof target !== 'object' || target === null || Array.isArray(target)) return undefined
  for (const condition of PAGE_CONDITIONS) {
    const picked = pickTarget((target as Record<string, unknown>)[condition])
    if (picked !== undefined) return picked
  }
  return undefined
}

/** The folder of package `name` as the module `from` finds it. */
function packageFolder(from: string, name: string): string {
  const require = createRequire(from)
  for (const folder of require.resolve.paths(name) ?? []) {
    try {
      readFileSync(join(folder, name, 'package.json'))
      return join(folder, name)
    } catch {
      // Not in this node_modules: the next one up.
    }
  }
  throw new Error(`${from} imports ${name}, which is not installed`)
}

/** The file a page loads for bare specifier `specifier` imported from `from`. */
function resolveForPage(from: string, specifier: string): string {
  const parts = specifier.split('/')
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!
  const subpath = `.${specifier.slice(name.length)}`
  const folder = packageFolder(from, name)
  const manifest = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')) as Record<string, unknown>
  const { exports } = manifest
  let target: string | undefined
  if (exports !== undefined) {
    const map = typeof exports === 'object' && exports !== null && Object.keys(exports).some((key) => key.startsWith('.'))
    target = pickTarget(map ? (exports as Record<string, unknown>)[subpath] : subpath === '.' ? exports : undefined)
  } else if (subpath === '.') {
    target = [manifest.browser, manifest.module, manifest.main].find((field) => typeof field === 'string') as string | undefined
  } else {
    target = subpath
  }
  if (target === undefined) throw new Error(`${from} imports ${specifier}, which ${name} does not export to a page`)
  return join(folder, target)
}

/** One Node.js module a walk reached, and the built file that imports it. */
interface NodeImport {
  file: string
  specifier: string
}

/** Walks the module graph from `entry` as a page loads it, and lists every Node.js module reached. */
function nodeImports(entry: string): { files: string[]; found: NodeImport[] } {
  const seen = new Set<string>()
  const found: NodeImport[] = []
  const queue = [entry]
  while (queue.length > 0) {
    const file = queue.pop()!
    if (seen.has(file)) continue
    seen.add(file)
    for (const specifier of specifiers(readFileSync(file, 'utf8'))) {
      if (specifier.startsWith('node:') || BUILTINS.has(specifier))
        found.push({ file: relative(CLIENT, file).split(sep).join('/'), specifier })
      else if (specifier.startsWith('.')) queue.push(join(dirname(file), specifier))
      else queue.push(resolveForPage(file, specifier))
    }
  }
  return { files: [...seen], found }
}

describe('the browser bundle', () => {
  it('reaches no Node.js module from dist/browser.js, through its chunks, the protocol and msgpackr', () => {
    const { files, found } = nodeImports(join(CLIENT, 'dist', 'browser.js'))
    expect(found).toEqual([])
    // The walk went through the chunks and into the packages a page loads, not the entry alone.
    const names = files.map((file) => relative(CLIENT, file).split(sep).join('/'))
    expect(names).toEqual(expect.arrayContaining([expect.stringMatching(/^dist\/chunk-\w+\.js$/)]))
    expect(names).toEqual(expect.arrayContaining([expect.stringMatching(/protocol\/dist\/wire\.js$/)]))
    // msgpackr's encoder, bundled into the protocol's dist/vendor or installed beside it.
    expect(names).toEqual(expect.arrayContaining([expect.stringMatching(/msgpackr[\w./-]*\.js$/)]))
  })

  it('finds the Node.js modules the Unix-socket entry loads, bundled without their node: prefix', () => {
    // The same walk from the Node entry reaches the socket transport's chunk: what the browser
    // entry must never import. This keeps the check able to fail.
    const { found } = nodeImports(join(CLIENT, 'dist', 'index.js'))
    expect(found).toEqual(
      expect.arrayContaining([
        { file: expect.stringMatching(/^dist\/ipc-transport-\w+\.js$/), specifier: 'fs' },
        { file: expect.stringMatching(/^dist\/ipc-transport-\w+\.js$/), specifier: 'os' },
      ]),
    )
  })
})
