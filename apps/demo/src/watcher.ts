// Keeps a live replica and prints every change as it arrives, clients joining and leaving among
// them, until the counter reaches --counter and the list holds --messages messages (defaults 5 and
// 5), and, with --clients N, at most N clients are connected (itself included); or until
// SIGINT/SIGTERM. Prints "watching …" once it is subscribed, so whoever started it knows no change
// will be missed.
import { parseArgs } from 'node:util'
import { connect, type ChangeInfo, type DeepReadonly, type IpcStateClient } from '@ipc-state/client'
import { cliArgs, demoAddress, demoClientId, demoLogger, describeError, integerOption, plural } from './config.js'
import { onShutdown } from './on-shutdown.js'
import type { ConnectedClient, DemoStore, Message } from './store.js'

type State = DeepReadonly<{ counter: number; messages: Message[]; clients: ConnectedClient[] }>

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
  if (next.clients !== previous.clients) lines.push(...describePresence(head, previous.clients, next.clients))
  return lines
}

/** One line per client that joined or left between two versions of the list of clients connected. */
function describePresence(head: string, before: State['clients'], after: State['clients']): string[] {
  const had = new Set(before.map((client) => client.instanceId))
  const has = new Set(after.map((client) => client.instanceId))
  const connected = plural(after.length, 'client')
  return [
    ...after
      .filter((client) => !had.has(client.instanceId))
      .map((client) => `${head} ${client.clientId} joined (${connected} connected)`),
    ...before
      .filter((client) => !has.has(client.instanceId))
      .map((client) => `${head} ${client.clientId} left (${connected} connected)`),
  ]
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
    options: {
      counter: { type: 'string', default: '5' },
      messages: { type: 'string', default: '5' },
      clients: { type: 'string' },
    },
  })
  const untilCounter = integerOption('counter', values.counter, 0)
  const untilMessages = integerOption('messages', values.messages, 0)
  const untilClients = values.clients === undefined ? Number.POSITIVE_INFINITY : integerOption('clients', values.clients, 0)
  const done = (state: State) =>
    state.counter >= untilCounter && state.messages.length >= untilMessages && state.clients.length <= untilClients

  const clientId = demoClientId('watcher')
  client = await connect<DemoStore>({ ...demoAddress(), clientId, logger: demoLogger() })
  const watched = client
  let previous: State = watched.state
  const unsubscribe = watched.subscribe((state, info) => {
    for (const line of describeChange(previous, state, info)) console.log(line)
    previous = state
    if (done(state)) finish()
  })
  const finish = () => {
    unsubscribe()
    const { counter, messages, clients } = watched.state
    console.log(
      `done at version ${watched.version}: counter ${counter}, ${plural(messages.length, 'message')}, ${plural(clients.length, 'client')} connected`,
    )
    void watched.close()
  }
  const clientsClause = untilClients === Number.POSITIVE_INFINITY ? '' : ` and clients <= ${untilClients}`
  console.log(
    `watching ${watched.path} as ${clientId} from version ${watched.version} until counter >= ${untilCounter} and messages >= ${untilMessages}${clientsClause}`,
  )
  if (done(watched.state)) finish()
} catch (error) {
  console.error(`error: ${describeError(error)}`)
  process.exit(1)
}
