// A candidate: follows the leader while there is one, and campaigns whenever there is none. Runs until stopped.
import { connect } from '@ipc-state/client'
import type { electionStore } from './store.js'

const name = process.argv[2] ?? `candidate-${process.pid}`
const client = await connect<typeof electionStore>({ id: 'election', socketRoot: process.env.IPC_STATE_SOCKET_ROOT })
process.once('SIGTERM', () => void client.close().then(() => process.exit(0)))

let followed: string | undefined
for (;;) {
  const state = await client.waitFor((s) => s.leader === null || s.leader.name !== followed)
  if (state.leader === null) {
    const term = await client.actions.campaign(name)
    if (term === null) continue
    console.log(`${name} leads (term ${term})`)
    // A leader does its work until its process ends: the store elects another then.
    await new Promise(() => {})
  }
  followed = state.leader!.name
  if (state.leader!.instanceId !== client.instanceId) console.log(`${name} follows ${followed} (term ${state.term})`)
}
