// Every scenario, in the order a run measures them.
import type { ScenarioFactory } from '../scenario.js'
import { cappedList } from './capped-list.js'
import { durability } from './durability.js'
import { fanOut } from './fan-out.js'
import { firstSnapshot } from './first-snapshot.js'
import { lockTakeover } from './lock-takeover.js'
import { replicaRead } from './replica-read.js'
import { echo1m, echo64k, manyInFlight, oneInFlight, processes } from './round-trips.js'
import { sharedServers } from './shared-servers.js'
import { startUp } from './start-up.js'
import { transports } from './transports.js'

/** Scenario ids and their factories, in run order. */
export const SCENARIOS: readonly (readonly [id: string, make: ScenarioFactory, summary: string])[] = [
  ['durability', durability, 'durable increments/s per fsync mode, and bytes written per change'],
  ['start-up', startUp, 'start a server from a journal of many changes and from a large snapshot'],
  ['one-in-flight', oneInFlight, '1 client, 1 call in flight: calls/s and p99 latency'],
  ['many-in-flight', manyInFlight, '1 client, 64 calls in flight'],
  ['processes', processes, 'several client processes, write-only and with replicas'],
  ['echo-64k', echo64k, '64 KiB echo'],
  ['echo-1m', echo1m, '1 MiB echo'],
  ['fan-out', fanOut, '1 publisher to many subscriber processes: messages delivered/s'],
  ['first-snapshot', firstSnapshot, 'connect and receive a 1 MB state'],
  ['replica-read', replicaRead, "read a value: ipc-state's replica against a round trip"],
  ['capped-list', cappedList, 'bytes on the wire per change of a capped 10,000-item list'],
  ['lock-takeover', lockTakeover, 'a lock holder killed or exiting, until a waiter holds the lock'],
  ['shared-servers', sharedServers, '1, 2 and 3 servers sharing one store in Redis: calls/s, p99, lag between servers'],
  ['transports', transports, 'worker threads over message ports and the Unix socket, a client over WebSocket'],
]
