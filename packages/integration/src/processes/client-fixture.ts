// Client fixtures started from a test, pointed at a server by the fixtures' environment convention.
import { type AddressOptions, type FixtureEnv, addressEnv } from './fixture-env.js'
import { type FixtureProcess, disposeAll, fixture, startFixture } from './processes.js'

/**
 * Starts `fixtures/clients/client.ts`, a client of the test store driven by `ask` commands, against
 * `address` (a server handle will do). Not yet connected: wait for its `connected` event.
 * `env` takes the extras its header documents, such as `IPC_STATE_WATCH`.
 */
export function startClient(address: AddressOptions, env: FixtureEnv = {}): FixtureProcess {
  return startFixture(fixture('clients/client.ts'), { env: { ...addressEnv(address), ...env } })
}

/** Starts `count` client fixtures (see `startClient`), disposed together. */
export function startClients(count: number, address: AddressOptions, env: FixtureEnv = {}): FixtureProcess[] & AsyncDisposable {
  return disposeAll(Array.from({ length: count }, () => startClient(address, env)))
}

/**
 * Starts `fixtures/clients/load-client.ts`, client processes that keep calling and report counts and
 * latencies, against `address`. `env` takes the extras its header documents, such as `IPC_STATE_CALLS`.
 */
export function startLoadClient(address: AddressOptions, env: FixtureEnv = {}): FixtureProcess {
  return startFixture(fixture('clients/load-client.ts'), { env: { ...addressEnv(address), ...env } })
}
