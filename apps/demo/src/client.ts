// The seed's read_ipc.js: connect, ask for the shared data, print it, disconnect.
import { inspect } from 'node:util'
import { connect } from '@ipc-state/client'
import { demoAddress, demoLogger, describeError, plural } from './config.js'
import type { DemoStore } from './store.js'

try {
  // No replica: like the seed's client, this one asks once and leaves.
  await using client = await connect<DemoStore>({ ...demoAddress(), replica: false, logger: demoLogger() })
  console.log(`connected to ${client.path}`)
  const sharedData = await client.getState()
  console.log(`Shared data: ${inspect(sharedData, { depth: null, colors: false, breakLength: 120 })}`)
  console.log(`counter ${sharedData.counter}, ${plural(sharedData.messages.length, 'message')}; disconnecting`)
} catch (error) {
  console.error(`error: could not read the shared data: ${describeError(error)}`)
  process.exit(1)
}
