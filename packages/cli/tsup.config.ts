import { defineConfig } from 'tsup'
import { libraryBuild } from '../../tsup.base.js'

// The library and the bin in one build (two configs would race over cleaning dist). tsup keeps the
// bin's shebang and makes dist/cli.js executable; declarations are the library's only.
export default defineConfig({
  ...libraryBuild,
  entry: { index: 'src/index.ts', cli: 'src/cli.ts' },
  dts: { entry: { index: 'src/index.ts' } },
  // The inspector finds its page from import.meta.url, in the CommonJS copy too.
  shims: true,
})
