// Increments the shared counter a few times (--count, default 5, each by --by, default 1), one
// call after the other.
import { parseArgs } from 'node:util'
import { connect, type IpcStateClient } from '@ipc-state/client'
import { cliArgs, demoAddress, demoClientId, demoLogger, describeError, integerOption } from './config.js'
import { onShutdown } from './on-shutdown.js'
import type { DemoStore } from './store.js'

let client: IpcStateClient<DemoStore> | undefined
onShutdown(async (signal) => {
  await client?.close()
  process.exit(signal === 'SIGINT' ? 130 : 143)
})

try {
  const { values } = parseArgs({
    args: cliArgs(),
    options: { count: { type: 'string', default: '5' }, by: { type: 'string', default: '1' } },
  })
  const count = integerOption('count', values.count, 1)
  const by = integerOption('by', values.by, -1_000_000)
  client = await connect<DemoStore>({ ...demoAddress(), clientId: demoClientId('incrementer'), logger: demoLogger() })
  for (let n = 1; n <= count; n++) {
    const counter = await client.actions.increment(by)
    console.log(`counter is ${counter} (version ${client.version})`)
  }
  await client.close()
} catch (error) {
  console.error(`error: ${describeError(error)}`)
  process.exit(1)
}
