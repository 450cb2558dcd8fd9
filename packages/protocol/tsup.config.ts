import { defineConfig } from 'tsup'
import { libraryBuild } from '../../tsup.base.js'

export default defineConfig({
  ...libraryBuild,
  esbuildOptions(options) {
    // index.ts imports disposable.ts for its global declarations only: the JavaScript it drops is empty.
    options.logOverride = { ...options.logOverride, 'ignored-bare-import': 'silent' }
  },
})
