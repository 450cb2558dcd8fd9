// How the server's source is laid out: its folders import one way, from the composition root down,
// and every module under src/ is part of what ships.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const src = fileURLToPath(new URL('../src', import.meta.url))

/**
 * The folders of src/, lowest first: a module may import from its own folder and from folders
 * listed before it, never from one listed after it. `.` is the composition root (`server.ts`, its
 * options, the public entry), which nothing imports.
 */
const LAYERS = [
  'vendor',
  'files',
  'state',
  'storage',
  'storage/file',
  'transport',
  'transport/websocket',
  'metrics',
  'connections',
  'calls',
  'presence',
  'testing',
  '.',
] as const

/** Every module under src/ but tests and declarations, relative to src/. */
function modules(folder = src): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name)
    if (entry.isDirectory()) return modules(path)
    return entry.name.endsWith('.ts') && !/\.(test|d)\.ts$/.test(entry.name) ? [relative(src, path)] : []
  })
}

/** The modules of src/ that `module` imports or re-exports, types included, relative to src/. */
function importsOf(module: string): string[] {
  const text = readFileSync(join(src, module), 'utf8')
  return [...text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((match) =>
    relative(src, resolve(dirname(join(src, module)), match[1]!)).replace(/\.js$/, '.ts'),
  )
}

const layerOf = (module: string): number => LAYERS.indexOf(dirname(module) as (typeof LAYERS)[number])

describe('the server’s source folders', () => {
  it('are each given a place in the layer order', () => {
    const unplaced = [...new Set(modules().map((module) => dirname(module)))].filter(
      (folder) => layerOf(join(folder, 'x.ts')) === -1,
    )
    expect(unplaced, 'add each new folder to LAYERS in test/structure.test.ts').toEqual([])
  })

  it('import only from their own folder and the folders below it', () => {
    const upward = modules().flatMap((module) =>
      importsOf(module)
        .filter((target) => layerOf(target) > layerOf(module))
        .map((target) => `${module} imports ${target}`),
    )
    expect(upward).toEqual([])
  })

  it('are read by the check above: an import found for every module that has one', () => {
    // A module that imports another of src/ must show up here, or the check above proves nothing.
    expect(importsOf('connections/sessions.ts')).toContain('connections/session.ts')
    expect(importsOf('calls/action-calls.ts')).toContain('connections/fan-out.ts')
  })
})

describe('every module under src/', () => {
  it('is reached from a published entry through the imports of shipped modules, not only from tests', () => {
    // Each subpath the package exports is built from src/<name>.ts or src/<name>/index.ts; `.` from src/index.ts.
    const { exports } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      exports: Record<string, unknown>
    }
    const entries = Object.keys(exports)
      .filter((subpath) => subpath !== './package.json')
      .map((subpath) =>
        subpath === '.'
          ? 'index.ts'
          : [`${subpath.slice(2)}.ts`, join(subpath.slice(2), 'index.ts')].find((path) => existsSync(join(src, path))),
      )
    expect(entries, 'each exported subpath has its module').not.toContain(undefined)
    const reached = new Set<string>()
    const visit = (module: string) => {
      if (reached.has(module)) return
      reached.add(module)
      for (const target of importsOf(module)) visit(target)
    }
    for (const module of entries) visit(module!)
    expect(modules().filter((module) => !reached.has(module))).toEqual([])
  })
})
