import { defineConfig } from 'tsup'
import { libraryBuild, withVendored } from '../../tsup.base.js'

// node-ipc goes into dist/vendor: the Unix-socket transport loads it, and nothing else does.
export default defineConfig(withVendored(libraryBuild, ['node-ipc']))
