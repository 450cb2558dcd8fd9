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
