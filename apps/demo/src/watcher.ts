// Keeps a live replica and prints every change as it arrives, until the counter reaches --counter
// and the list holds --messages messages (defaults 5 and 5), or until SIGINT/SIGTERM. Prints
// "watching …" once it is subscribed, so whoever started it knows no change will be missed.
import { parseArgs } from 'node:util'
import { connect, type ChangeInfo, type DeepReadonly, type IpcStateClient } from '@ipc-state/client'
import { cliArgs, demoAddress, demoClientId, demoLogger, describeError, integerOption, plural } from './config.js'
import { onShutdown } from './on-shutdown.js'
import type { DemoStore, Message } from './store.js'

type State = DeepReadonly<{ counter: number; messages: Message[] }>

/** One line per thing that changed between two versions of the state. */
function describeChange(previous: State, next: State, info: ChangeInfo): string[] {
  const head = `v${info.version}`
  if (info.reason !== 'change') {
    const what = info.reason === 'reset' ? 'the server restarted' : 'resynced'
    return [`${head} ${what}: counter ${next.counter}, ${plural(next.messages.length, 'message')}`]
  }
  const lines: string[] = []
  if (next.counter !== previous.counter) lines.push(`${head} counter ${previous.counter} -> ${next.counter}`)
  // Unchanged parts of the state keep their identity from one version to the next.
  if (next.messages !== previous.messages) {
    for (const message of next.messages.slice(previous.messages.length)) {
      lines.push(`${head} message #${message.id} from ${message.from}: ${JSON.stringify(message.text)}`)
    }
  }
  return lines
}

let client: IpcStateClient<DemoStore> | undefined
onShutdown(async (signal) => {
  console.log(`${signal}: stopped at version ${client?.version ?? '-'}`)
  await client?.close()
  process.exit(0)
})

try {
  const { values } = parseArgs({
    args: cliArgs(),
    options: { counter: { type: 'string', default: '5' }, messages: { type: 'string', default: '5' } },
  })
  const untilCounter = integerOption('counter', values.counter, 0)
  const untilMessages = integerOption('messages', values.messages, 0)
  const done = (state: State) => state.counter >= untilCounter && state.messages.length >= untilMessages

  client = await connect<DemoStore>({ ...demoAddress(), clientId: demoClientId('watcher'), logger: demoLogger() })
  const watched = client
  let previous: State = watched.state
  const unsubscribe = watched.subscribe((state, info) => {
    for (const line of describeChange(previous, state, info)) console.log(line)
    previous = state
    if (done(state)) finish()
  })
  const finish = () => {
    unsubscribe()
    const { counter, messages } = watched.state
    console.log(`done at version ${watched.version}: counter ${counter}, ${plural(messages.length, 'message')}`)
    void watched.close()
  }
  console.log(
    `watching ${watched.path} from version ${watched.version} until counter >= ${untilCounter} and messages >= ${untilMessages}`,
  )
  if (done(watched.state)) finish()
} catch (error) {
  console.error(`error: ${describeError(error)}`)
  process.exit(1)
}
