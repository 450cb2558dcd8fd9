// A server fixture started from a test: one handle for every fixture that serves on a socket.
import { type FixtureAddress, type FixtureEnv, addressEnv, fixtureAddress } from './fixture-env.js'
import { type FixtureEvent, type FixtureProcess, ask, fixture, startFixture, tempSocketRoot } from './processes.js'
import type { TestState } from '../stores/test-store.js'

/** A server fixture's own view of its state, as its `state` command prints it. */
export interface ServerView<State = TestState> {
  state: State
  version: number
  epoch: string
}

/** What a server fixture's `stats` command prints. */
export interface ServerStats {
  rss: number
  connections: number
  /** Open file descriptors; `undefined` where /proc is missing. */
  fds: number | undefined
}

/** A running server fixture; disposing it kills it, and removes its socket folder if it made one. */
export interface ServerHandle<State = TestState> extends AsyncDisposable {
  readonly process: FixtureProcess
  readonly socketRoot: string
  readonly appspace: string
  readonly id: string
  /** What `connect` and other fixtures take to reach this server. */
  readonly address: FixtureAddress
  /** The socket path the fixture reported once it listened. */
  readonly path: string
  /** The epoch the fixture reported once it listened. */
  readonly epoch: string
  /** The `ready` event itself, with whatever else the fixture reported. */
  readonly ready: FixtureEvent
  /** Asks the fixture for its state (the `state` command) and waits for the answer. */
  view(): Promise<ServerView<State>>
  /** Asks the fixture for RSS, connection count and open descriptors (the `stats` command). */
  stats(): Promise<ServerStats>
}

export interface StartServerOptions {
  /**
   * The socket folder.
   * @default a fresh temporary folder, removed when the handle is disposed
   */
  socketRoot?: string
  /** @default 'test.' */
  appspace?: string
  /** @default 'server' */
  id?: string
  /** More variables for the fixture, such as `IPC_STATE_MAX_FRAME_BYTES`: see the fixture's header. */
  env?: FixtureEnv
  /**
   * The fixture script. Any fixture that prints {"event":"ready","path","epoch"} once it listens, or
   * {"event":"error"} when it cannot; `view()` and `stats()` need the commands it answers.
   * @default fixture('servers/server.ts')
   */
  script?: string
}

/**
 * Starts a server fixture and waits for it to listen. `State` is the state its `state` command
 * prints: the test store's unless the script serves another store.
 * @throws Error when the fixture reports an error or exits before it is ready
 */
export async function startServer<State = TestState>(options: StartServerOptions = {}): Promise<ServerHandle<State>> {
  const dir = options.socketRoot === undefined ? await tempSocketRoot() : undefined
  const address = fixtureAddress({ ...options, socketRoot: options.socketRoot ?? dir!.socketRoot })
  const child = startFixture(options.script ?? fixture('servers/server.ts'), { env: { ...addressEnv(address), ...options.env } })
  const dispose = async () => {
    await child[Symbol.asyncDispose]()
    await dir?.[Symbol.asyncDispose]()
  }
  let ready: FixtureEvent
  try {
    ready = await child.waitFor((e) => e.event === 'ready' || e.event === 'error')
    if (ready.event !== 'ready') throw new Error(`the server fixture failed to start: ${JSON.stringify(ready)}`)
  } catch (error) {
    await dispose()
    throw error
  }
  return {
    process: child,
    ...address,
    address,
    path: ready.path as string,
    epoch: ready.epoch as string,
    ready,
    view: async () => (await ask(child, 'state')) as unknown as ServerView<State>,
    stats: async () => (await ask(child, 'stats')) as unknown as ServerStats,
    [Symbol.asyncDispose]: dispose,
  }
}
