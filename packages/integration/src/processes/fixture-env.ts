/**
 * The one environment convention every fixture follows, read by fixtures and written by tests.
 *
 * The server a fixture serves, or connects to, is named by three variables, as the demo names its
 * own server:
 * - `IPC_STATE_SOCKET_ROOT` (required): the socket folder, with its trailing slash;
 * - `IPC_STATE_APPSPACE`: default `'test.'`;
 * - `IPC_STATE_ID`: default `'server'`;
 *
 * so its socket is at `socketRoot + appspace + id`, as node-ipc joins them. Anything else a fixture
 * reads is named `IPC_STATE_<WHAT>` and documented at the top of that fixture. Fixtures do not
 * inherit these variables from the test run's own environment (see `startFixture`).
 */
export type EnvName = `IPC_STATE_${string}`

/** Variables for a fixture; the type keeps every name in the convention. */
export type FixtureEnv = { [name: EnvName]: string }

/** The appspace a fixture uses when `IPC_STATE_APPSPACE` is unset. */
export const FIXTURE_APPSPACE = 'test.'
/** The server id a fixture uses when `IPC_STATE_ID` is unset. */
export const FIXTURE_ID = 'server'

/** Where a fixture's server listens, every part filled in: what `connect` and `createServer` take. */
export interface FixtureAddress {
  socketRoot: string
  appspace: string
  id: string
}

/** An address whose appspace and id may be left to the fixtures' defaults. */
export type AddressOptions = Pick<FixtureAddress, 'socketRoot'> & Partial<FixtureAddress>

/** Fills in the fixtures' default appspace and id. */
export function fixtureAddress(options: AddressOptions): FixtureAddress {
  return { socketRoot: options.socketRoot, appspace: options.appspace ?? FIXTURE_APPSPACE, id: options.id ?? FIXTURE_ID }
}

/** The socket path of a fixture's server: `socketRoot + appspace + id`, defaults filled in. */
export function serverPath(socketRoot: string, address: Partial<FixtureAddress> = {}): string {
  const { appspace, id } = fixtureAddress({ ...address, socketRoot })
  return `${socketRoot}${appspace}${id}`
}

/** Test side: the variables that point a fixture at `address`. */
export function addressEnv(address: AddressOptions): FixtureEnv {
  const { socketRoot, appspace, id } = fixtureAddress(address)
  return { IPC_STATE_SOCKET_ROOT: socketRoot, IPC_STATE_APPSPACE: appspace, IPC_STATE_ID: id }
}

/** Fixture side: the address this fixture was started with, and its socket path. */
export function envAddress(env: NodeJS.ProcessEnv = process.env): FixtureAddress & { path: string } {
  const socketRoot = env.IPC_STATE_SOCKET_ROOT
  if (socketRoot === undefined) throw new Error('IPC_STATE_SOCKET_ROOT is not set: start fixtures through the test kit')
  const address = fixtureAddress({ socketRoot, appspace: env.IPC_STATE_APPSPACE, id: env.IPC_STATE_ID })
  return { ...address, path: serverPath(socketRoot, address) }
}

/** Fixture side: a variable as a number, `undefined` when unset. */
export function envNumber(name: EnvName, env: NodeJS.ProcessEnv = process.env): number | undefined {
  const text = env[name]
  return text === undefined ? undefined : Number(text)
}

/** Fixture side: a variable as a flag, `'1'` for on and `'0'` for off. */
export function envFlag(name: EnvName, fallback: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  const text = env[name]
  return text === undefined ? fallback : text === '1'
}

/** Fixture side: a variable as text, `undefined` when unset. */
export function envText(name: EnvName, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env[name]
}
