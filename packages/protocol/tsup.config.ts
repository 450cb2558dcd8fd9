import { defineConfig } from 'tsup'
import { libraryBuild, withVendored } from '../../tsup.base.js'

// msgpackr's encoder goes into dist/vendor, so installing the protocol installs no msgpackr and runs
// no install script of its optional native part.
export default defineConfig(
  withVendored(
    {
      ...libraryBuild,
      // Three entries: what applications import, the wire only server and client use, and socket paths.
      entry: { index: 'src/index.ts', wire: 'src/wire/index.ts', node: 'src/node/index.ts' },
      // Code the entries share lives in one chunk, in CommonJS too: one IpcStateError class per module
      // system, however many entries a process loads.
      splitting: true,
      esbuildOptions(options) {
        // index.ts imports disposable.ts for its global declarations only: the JavaScript it drops is empty.
        options.logOverride = { ...options.logOverride, 'ignored-bare-import': 'silent' }
      },
    },
    ['msgpackr'],
  ),
)
