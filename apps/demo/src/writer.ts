// Adds a few messages (--count, default 5), each once the server has applied the one before.
import { parseArgs } from 'node:util'
import { connect, type IpcStateClient } from '@ipc-state/client'
import { cliArgs, demoAddress, demoClientId, demoLogger, describeError, integerOption, plural } from './config.js'
import { onShutdown } from './on-shutdown.js'
import type { DemoStore } from './store.js'

let client: IpcStateClient<DemoStore> | undefined
onShutdown(async (signal) => {
  await client?.close()
  process.exit(signal === 'SIGINT' ? 130 : 143)
})

try {
  const { values } = parseArgs({ args: cliArgs(), options: { count: { type: 'string', default: '5' } } })
  const count = integerOption('count', values.count, 1)
  client = await connect<DemoStore>({ ...demoAddress(), clientId: demoClientId('writer'), logger: demoLogger() })
  for (let n = 1; n <= count; n++) {
    const id = await client.actions.addMessage(`Merhaba! message ${n} of ${count}`)
    // The call resolves once the local replica shows the write.
    console.log(`added message #${id} (version ${client.version}, ${plural(client.state.messages.length, 'message')})`)
  }
  await client.close()
} catch (error) {
  console.error(`error: ${describeError(error)}`)
  process.exit(1)
}
