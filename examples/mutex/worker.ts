// A process that takes the lease, uses the resource for the given milliseconds (default 100) while
// renewing it, and gives it back. With `hang`, it never renews: the server expires its lease, the
// next process gets a larger token, and this one's late release finds its own token stale.
import { connect } from '@ipc-state/client'
import type { mutexStore } from './store.js'

// Long enough that a process stalled by a busy machine keeps its lease: only one that stops renewing loses it.
const TTL = 3_000
const workMs = Number(process.argv[2] ?? 100)
const hangs = process.argv[3] === 'hang'
await using client = await connect<typeof mutexStore>({ id: 'mutex', socketRoot: process.env.IPC_STATE_SOCKET_ROOT })

let token: number | null = null
while (token === null) {
  // Waits on the replica, with no polling, until the lease is free, then races the others for it.
  await client.waitFor((state) => state.lease.holder === null)
  token = await client.actions.acquire(TTL)
}
console.log(`acquired token ${token}`)
// Whatever the lease guards takes the token with each write, and refuses a token older than the last it saw.
const renewal = hangs ? undefined : setInterval(() => void client.actions.renew({ token: token!, ttl: TTL }), TTL / 4)
const work = new Promise((resolve) => setTimeout(resolve, workMs))
// A hung process wakes up late: so that it shows what a late release meets, it sleeps at least
// until another process holds the lease.
await (hangs ? Promise.all([work, client.waitFor((state) => state.lease.token !== token)]) : work)
clearInterval(renewal)
if (await client.actions.release(token)) console.log(`released token ${token}`)
else console.log(`token ${token} is stale: the lease expired while this process hung`)
