import { defineConfig } from 'tsup'
import { libraryBuild, withVendored } from '../../tsup.base.js'

// node-ipc goes into dist/vendor: the Unix-socket transport loads it, and nothing else does (the
// browser entry never reaches it).
export default defineConfig(
  withVendored({ ...libraryBuild, entry: { index: 'src/index.ts', browser: 'src/browser.ts' } }, ['node-ipc']),
)
