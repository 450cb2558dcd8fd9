// Fixtures as plain JavaScript: the TypeScript loader's own start-up costs about 0.3 s of CPU per
// process, and the tests start hundreds of fixture processes.
import { mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

/** packages/integration, where fixtures/ and src/ are. */
const packageRoot = fileURLToPath(new URL('../..', import.meta.url))

/** Fixtures transpiled to JavaScript in a temporary folder, removed on dispose. */
export interface PlainFixtures extends AsyncDisposable {
  /** The folder: `fixtures/` and the kit's `src/` modules they import, as JavaScript. */
  readonly root: string
  /** The JavaScript of fixture `name` (say 'servers/server.ts'), to start with `startFixture(…, { plain: true })`. */
  path(name: string): string
}

/**
 * Transpiles fixtures `names` (in fixtures/) and every module of the kit they import, as they are
 * (types dropped, nothing checked: `tsc` does that), into a temporary folder whose imports resolve
 * as from this package.
 */
export async function plainFixtures(names: string[]): Promise<PlainFixtures> {
  const out = await mkdtemp('/tmp/ipcs-js-')
  await writeFile(join(out, 'package.json'), '{"type":"module"}')
  await symlink(join(packageRoot, 'node_modules'), join(out, 'node_modules'))
  const done = new Set<string>()
  const pending = names.map((name) => join(packageRoot, 'fixtures', name))
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (done.has(file)) continue
    done.add(file)
    const source = await readFile(file, 'utf8')
    const { outputText } = ts.transpileModule(source, {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
    })
    const target = join(out, relative(packageRoot, file)).replace(/\.ts$/, '.js')
    await mkdir(dirname(target), { recursive: true })
    await writeFile(target, outputText)
    // The kit's own modules, imported by relative paths ending in .js as NodeNext wants them.
    for (const [, specifier] of source.matchAll(/(?:from|import)\s+'(\.{1,2}\/[^']+)\.js'/g)) {
      pending.push(resolve(dirname(file), `${specifier}.ts`))
    }
  }
  return {
    root: out,
    path: (name) => plainFixturePath(out, name),
    [Symbol.asyncDispose]: () => rm(out, { recursive: true, force: true }),
  }
}

/** Where fixture `name` (say 'servers/server.ts') is as JavaScript in the folder of {@link plainFixtures}. */
export function plainFixturePath(root: string, name: string): string {
  return join(root, 'fixtures', name.replace(/\.ts$/, '.js'))
}

/** Every TypeScript fixture in fixtures/ and its folders, by its path there (say 'servers/server.ts'). */
export async function allFixtureNames(): Promise<string[]> {
  return (await readdir(join(packageRoot, 'fixtures'), { recursive: true })).filter((name) => name.endsWith('.ts'))
}
