import { defineConfig } from 'tsup'
import { libraryBuild, withVendored } from '../../tsup.base.js'

// node-ipc goes into dist/vendor, where the Unix-socket transport loads it from; ws stays a
// dependency, loaded by the websocket entry alone.
export default defineConfig(
  withVendored(
    {
      ...libraryBuild,
      entry: { index: 'src/index.ts', testing: 'src/testing/index.ts', websocket: 'src/websocket.ts' },
    },
    ['node-ipc'],
  ),
)
