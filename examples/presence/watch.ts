// Prints who joins and who leaves, and why, as the presence list changes.
import { connect } from '@ipc-state/client'
import type { presenceStore } from './store.js'

const client = await connect<typeof presenceStore>({
  id: 'presence',
  socketRoot: process.env.IPC_STATE_SOCKET_ROOT,
  clientId: 'watcher',
})
const self = client.instanceId
let seen = new Set(client.state.online.map((member) => member.instanceId))
let departures = client.state.departures.length
console.log(
  `watching: ${
    client.state.online
      .filter((m) => m.instanceId !== self)
      .map((m) => m.name)
      .join(', ') || 'nobody'
  } online`,
)
client.subscribe((state) => {
  for (const member of state.online) if (!seen.has(member.instanceId)) console.log(`+ ${member.name}`)
  // Departures are kept in order, the oldest dropped first: the new ones are at the end.
  const added = Math.min(state.departures.length, Math.max(0, state.departures.length - departures))
  for (const departure of state.departures.slice(state.departures.length - added))
    console.log(`- ${departure.name} (${departure.reason})`)
  seen = new Set(state.online.map((member) => member.instanceId))
  departures = state.departures.length
})
