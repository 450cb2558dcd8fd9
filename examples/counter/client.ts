// A client: increments the counter a few times, then prints what its replica shows.
import { connect } from '@ipc-state/client'
import type { counterStore } from './store.js'

const times = Number(process.argv[2] ?? 3)
await using client = await connect<typeof counterStore>({ id: 'counter', socketRoot: process.env.IPC_STATE_SOCKET_ROOT })
for (let i = 0; i < times; i++) await client.actions.increment()
console.log(`counter: ${client.state.counter}`)
