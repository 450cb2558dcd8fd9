// A server fixture that must not start: the error it reports, once its process has exited.
import { addressEnv, type FixtureAddress, type FixtureEnv } from './fixture-env.js'
import { type Exit, type FixtureEvent, fixture, startFixture } from './processes.js'

export interface RefusedStartOptions {
  /** Where it tries to listen. */
  address: FixtureAddress
  /** More variables for the fixture: see its header. */
  env?: FixtureEnv
  /** @default fixture('servers/server.ts') */
  script?: string
}

/**
 * Starts a server fixture that is expected to fail, and resolves with its {"event":"error"} line
 * and how it exited.
 * @throws Error when the fixture reports `ready` instead (it is killed then)
 */
export async function refusedStart(options: RefusedStartOptions): Promise<{ error: FixtureEvent; exit: Exit }> {
  const child = startFixture(options.script ?? fixture('servers/server.ts'), {
    env: { ...addressEnv(options.address), ...options.env },
  })
  try {
    const event = await child.waitFor((e) => e.event === 'ready' || e.event === 'error')
    if (event.event === 'ready') throw new Error(`the server started, but should have refused: ${JSON.stringify(event)}`)
    return { error: event, exit: await child.exited }
  } finally {
    await child[Symbol.asyncDispose]()
  }
}
