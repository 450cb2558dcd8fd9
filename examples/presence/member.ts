// A member: connects under a name, stays the given milliseconds (default: until stopped), then closes.
import { connect } from '@ipc-state/client'
import type { presenceStore } from './store.js'

const name = process.argv[2] ?? 'member'
const stayMs = process.argv[3] === undefined ? undefined : Number(process.argv[3])
const client = await connect<typeof presenceStore>({
  id: 'presence',
  socketRoot: process.env.IPC_STATE_SOCKET_ROOT,
  clientId: name,
})
console.log(`${name} online with ${client.state.online.length - 1} other(s)`)
if (stayMs !== undefined) {
  // The member's time online, then it leaves.
  await new Promise((resolve) => setTimeout(resolve, stayMs))
  // Closing says goodbye: the others see this member leave at once.
  await client.close()
}
