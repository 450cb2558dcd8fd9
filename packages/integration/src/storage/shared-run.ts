// A run of writers and watchers spread over shared servers, and what every process saw at its end.
import { expect } from 'vitest'
import { startClient } from '../processes/client-fixture.js'
import { type FixtureEvent, type FixtureProcess, ask, disposeAll } from '../processes/processes.js'
import type { SharedServer } from './shared-servers.js'
import type { TestState } from '../stores/test-store.js'

/** What a client fixture's `report` returns. */
export interface Report {
  version: number
  epoch: string
  state: TestState
  versions: number[]
  jumps: { from: number; to: number; reason: string }[]
  subscribedAt: number
}

/** What a client fixture's `burst` returns. */
export interface BurstResult {
  values: unknown[]
  errors: { i: number; code: string; message: string }[]
  crashed?: string
}

/** The client processes of one run: writers and watchers, each connected to one server. */
export interface Clients extends AsyncDisposable {
  writers: FixtureProcess[]
  watchers: FixtureProcess[]
  all: FixtureProcess[]
}

/**
 * How long a writer's call may wait: these runs count every call once, across a server killed and
 * started again, and a start on a machine whose cores are busy can take longer than the library's
 * default timeout. A call that timed out would be neither applied nor counted.
 */
const CALL_TIMEOUT_MS = '120000'

/** Starts `writersPerServer` writers and one watcher on each server, and waits until all are connected. */
export async function startSharedClients(servers: readonly SharedServer[], writersPerServer: number): Promise<Clients> {
  const writers = servers.flatMap((server) =>
    Array.from({ length: writersPerServer }, () => startClient(server.address, { IPC_STATE_TIMEOUT: CALL_TIMEOUT_MS })),
  )
  const watchers = servers.map((server) => startClient(server.address, { IPC_STATE_WATCH: '1' }))
  const all = disposeAll([...writers, ...watchers])
  await Promise.all(all.map((client) => client.waitFor('connected')))
  return { writers, watchers, all, [Symbol.asyncDispose]: () => all[Symbol.asyncDispose]() }
}

/**
 * Each writer makes `calls` increments and `calls` messages (`w<i>-<n>`), each kind one call after
 * the other, the two kinds side by side: a few calls in flight per writer, so no call waits behind
 * thousands of others on a busy machine.
 */
export function writeAll(writers: readonly FixtureProcess[], calls: number): Promise<BurstResult[]> {
  const asks = writers.flatMap((writer, i) => [
    ask(writer, { op: 'serial', action: 'increment', count: calls }),
    ask(writer, { op: 'serial', action: 'addMessage', count: calls, inputPrefix: `w${i}-` }),
  ])
  return Promise.all(asks) as Promise<(FixtureEvent & BurstResult)[]>
}

/**
 * Resolves once `server` serves `version` or a later one, asking it again after each answer. A
 * server still short of it after `patience` ms fails the test with the version it is stuck at,
 * rather than leave it to the test's timeout to say nothing.
 */
export async function untilVersion(server: SharedServer, version: number, patience = 120_000): Promise<void> {
  const giveUpAt = Date.now() + patience
  for (;;) {
    const view = (await ask(server.process, 'state')) as FixtureEvent & { version: number }
    if (view.version >= version) return
    if (Date.now() > giveUpAt) {
      throw new Error(`server ${server.address.id} is still at version ${view.version} after ${patience} ms, short of ${version}`)
    }
  }
}

/**
 * Checks that every server and every client process ends at `version` with one state, and that
 * every watcher saw each version after it subscribed, in order, none skipped but across a resync
 * (a slow consumer cut on a busy machine); a watcher in `reconnected` (its server was killed) saw
 * them in order, and skipped only across its resyncs.
 * Returns that state.
 */
export async function expectOneState(
  servers: readonly SharedServer[],
  clients: Clients,
  version: number,
  reconnected: readonly FixtureProcess[] = [],
): Promise<TestState> {
  // A server takes the last changes of the others from its log reader, a moment after they were answered.
  for (const server of servers) await untilVersion(server, version)
  const views = (await Promise.all(servers.map((server) => ask(server.process, 'state')))) as (FixtureEvent & {
    version: number
    state: TestState
  })[]
  const reports = (await Promise.all(
    clients.all.map((client) => ask(client, { op: 'report', until: { version } })),
  )) as (FixtureEvent & Report)[]
  const state = views[0]!.state
  for (const view of views) expect({ version: view.version, state: view.state }).toEqual({ version, state })
  for (const report of reports) expect({ version: report.version, state: report.state }).toEqual({ version, state })
  clients.watchers.forEach((process, i) => {
    const watcher = reports[clients.writers.length + i]!
    // Every step that is not to the next version is a jump: each one must be forward, and a resync
    // the watcher was told of (its server came back, or it was cut as a slow consumer on a busy
    // machine), never a change that skipped versions.
    expect(watcher.jumps.filter((jump) => jump.reason !== 'resync' || jump.to <= jump.from)).toEqual([])
    if (reconnected.includes(process)) {
      // Its replica resynced after each restart of its server: every version it saw, once, rising.
      expect(watcher.versions).toEqual([...new Set(watcher.versions)].sort((a, b) => a - b))
      return
    }
    expect(watcher.versions.at(-1) ?? watcher.subscribedAt).toBe(version)
  })
  return state
}
