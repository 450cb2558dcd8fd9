import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import type { Options } from 'tsup'

/** How every published library is built: ESM and CommonJS, each with its own declarations. */
export const libraryBuild: Options = {
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
}

type Plugin = NonNullable<Options['esbuildPlugins']>[number]

/** Where a library's bundled third-party code lives, inside its dist. */
const VENDOR_DIR = 'vendor'
/** An import of one of `src/vendor/*.ts` from the library's own code. */
const VENDOR_IMPORT = /^\.{1,2}\/(?:\.\.\/)*vendor\/([\w-]+)\.js$/

/**
 * `library`, built with the third-party packages its `src/vendor/<name>.ts` modules re-export
 * bundled into `dist/vendor/<name>.js` and `.cjs` instead of installed with it: npm then installs
 * none of their dependencies and runs none of their install scripts. Each vendor module re-exports
 * only what the library uses, so the compiler checks every import against the real package; the
 * library's chunks import the built copy (`./vendor/<name>.js`), loaded when they are. The build
 * writes `dist/vendor/THIRD-PARTY-NOTICES.md`: the name, version and licence text of every
 * package the copies hold.
 */
export function withVendored(library: Options, names: readonly string[]): Options[] {
  return [
    // The two builds run at once: the library's cleaning leaves the vendor folder alone.
    { ...library, clean: [`!${VENDOR_DIR}/**`], esbuildPlugins: [...(library.esbuildPlugins ?? []), importVendored()] },
    {
      entry: Object.fromEntries(names.map((name) => [name, `src/vendor/${name}.ts`])),
      outDir: `dist/${VENDOR_DIR}`,
      format: ['esm', 'cjs'],
      platform: 'node',
      target: library.target ?? 'node20',
      // Everything but Node's own modules, whatever package.json says of it.
      noExternal: [/.*/],
      splitting: false,
      dts: false,
      sourcemap: false,
      clean: true,
      esbuildPlugins: [writeNotices()],
    },
  ]
}

/** Points the library's imports of `src/vendor/<name>.ts` at the built copy beside its chunks. */
function importVendored(): Plugin {
  return {
    name: 'import-vendored',
    setup(build) {
      // The extension tsup gives this format's files, the vendor build's as the library's (a CommonJS
      // build split into chunks is made as ESM first, so its esbuild format does not say).
      const extension = build.initialOptions.outExtension?.['.js'] ?? '.js'
      build.onResolve({ filter: VENDOR_IMPORT }, (args) => {
        const name = VENDOR_IMPORT.exec(args.path)?.[1]
        return { path: `./${VENDOR_DIR}/${name}${extension}`, external: true }
      })
    },
  }
}

interface BundledPackage {
  name: string
  version: string
  license: string
  repository: string | undefined
  licenseText: string
}

/** The package a bundled file belongs to: the nearest package.json above it that has a name. */
function packageOf(file: string): { dir: string; manifest: Record<string, unknown> } | undefined {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    const path = join(dir, 'package.json')
    if (!existsSync(path)) continue
    const manifest = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>
    if (typeof manifest.name === 'string') return { dir, manifest }
  }
  return undefined
}

/** Writes the notices of every package the vendor build bundled; fails the build if one has no licence text. */
function writeNotices(): Plugin {
  return {
    name: 'third-party-notices',
    setup(build) {
      build.onEnd((result) => {
        if (result.metafile === undefined || result.errors.length > 0) return
        const own = resolve('.')
        const bundled = new Map<string, BundledPackage>()
        for (const input of Object.keys(result.metafile.inputs)) {
          const found = packageOf(resolve(input))
          if (found === undefined || found.dir === own) continue
          const { dir, manifest } = found
          const key = `${manifest.name}@${manifest.version}`
          if (bundled.has(key)) continue
          const licenseFile = readdirSync(dir).find((file) => /^licen[cs]e(\.md|\.txt)?$/i.test(file))
          if (licenseFile === undefined) throw new Error(`${key}, bundled into ${relative(own, dir)}, has no licence file`)
          const repository = manifest.repository as string | { url?: string } | undefined
          bundled.set(key, {
            name: String(manifest.name),
            version: String(manifest.version),
            license: String(manifest.license),
            repository: typeof repository === 'string' ? repository : repository?.url,
            licenseText: readFileSync(join(dir, licenseFile), 'utf8').trim(),
          })
        }
        const { name } = JSON.parse(readFileSync('package.json', 'utf8')) as { name: string }
        const sections = [...bundled.values()]
          .sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version))
          .map((pkg) =>
            [
              `## ${pkg.name} ${pkg.version} (${pkg.license})`,
              ...(pkg.repository ? [pkg.repository] : []),
              '',
              pkg.licenseText,
            ].join('\n'),
          )
        const notices = [
          '# Third-party notices',
          '',
          `${name} carries the code of these packages, unchanged, bundled into the files of this folder.`,
          '',
          ...sections.flatMap((section) => [section, '']),
        ].join('\n')
        mkdirSync(`dist/${VENDOR_DIR}`, { recursive: true })
        writeFileSync(`dist/${VENDOR_DIR}/THIRD-PARTY-NOTICES.md`, notices)
      })
    },
  }
}
