import { createRequire } from 'node:module'
// No other local user can stand in for our server: a client never sends a byte to a socket that
// belongs to another user, and with no socketRoot, server and client meet in a folder that only
// their user can write to, not node-ipc's shared /tmp/.
import { chmod, copyFile, cp, lstat, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { connect } from '@ipc-state/client'
import { defineStore, type IpcStateError } from '@ipc-state/protocol'
import { createServer } from '@ipc-state/server'
import { describe, expect, it } from 'vitest'
import { type AddressOptions, addressEnv, serverPath } from '../src/processes/fixture-env.js'
import { cannotRunAsNobody, NOBODY } from '../src/processes/other-user.js'
import { ask, type FixtureEvent, type FixtureProcess, fixture, startFixture } from '../src/processes/processes.js'

const store = defineStore({
  initialState: { counter: 0 },
  actions: {
    increment(state, by: number = 1) {
      state.counter += by
      return state.counter
    },
  },
})

/** Settles `promise` and returns what it rejected with, or `undefined` if it resolved. */
const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error: IpcStateError) => error,
  )

/**
 * Starts the impostor fixture as user nobody, with plain node from a copy in a folder nobody can
 * read, listening at `address`. Disposing it removes that folder too.
 */
async function startImpostor(address: AddressOptions): Promise<FixtureProcess> {
  const folder = await mkdtemp('/tmp/ipcs-impostor-')
  await chmod(folder, 0o755)
  const script = join(folder, 'impostor-server.mjs')
  await copyFile(fixture('hostile/impostor-server.mjs'), script)
  // The protocol package's own ES module build, beside it: its frames are made by the same
  // encoders as ours.
  const protocolEntry = createRequire(import.meta.url).resolve('@ipc-state/protocol')
  const protocol = join(folder, 'protocol')
  await cp(dirname(protocolEntry), protocol, { recursive: true, filter: (path) => !/\.(cjs|cts|map)$/.test(path) })
  await writeFile(join(protocol, 'package.json'), '{ "type": "module" }\n')
  // And its runtime dependency, msgpackr (JavaScript), where plain node looks for it.
  const msgpackr = join(dirname(createRequire(protocolEntry).resolve('msgpackr')), '..')
  await cp(msgpackr, join(folder, 'node_modules', 'msgpackr'), {
    recursive: true,
    filter: (path) => !path.includes('node_modules', msgpackr.length),
  })
  await chmod(script, 0o644)
  const impostor = startFixture(script, { plain: true, cleanEnv: true, uid: NOBODY, gid: NOBODY, env: addressEnv(address) })
  const kill = impostor[Symbol.asyncDispose]
  return Object.assign(impostor, {
    [Symbol.asyncDispose]: async () => {
      await kill()
      await rm(folder, { recursive: true, force: true })
    },
  })
}

/** Asks the impostor what reached it. */
async function report(impostor: FixtureProcess): Promise<{ connections: number; bytes: number; received: string[] }> {
  const { connections, bytes, received } = (await ask(impostor, 'report')) as FixtureEvent & {
    connections: number
    bytes: number
    received: string[]
  }
  return { connections, bytes, received }
}

describe('socket ownership', () => {
  it("never sends a byte to another user's server at the path, even one that speaks the protocol", async (context) => {
    const reason = cannotRunAsNobody()
    if (reason !== undefined) {
      console.log(`socket-ownership: skipped, ${reason}`)
      context.skip()
    }
    // A folder shared as /tmp is: anyone may create files, nobody may remove another's.
    const shared = await mkdtemp('/tmp/ipcs-shared-')
    await chmod(shared, 0o1777)
    try {
      const socketRoot = `${shared}/`
      const socketPath = serverPath(socketRoot)
      await using impostor = await startImpostor({ socketRoot })
      const ready = await impostor.waitFor('ready')
      expect(ready).toMatchObject({ event: 'ready', path: socketPath, uid: NOBODY })
      const stats = await lstat(socketPath)
      expect([stats.isSocket(), stats.uid]).toEqual([true, NOBODY])

      // Our client refuses it at once, before connecting.
      const refused = await rejection(connect({ socketRoot, appspace: 'test.', id: 'server', connectAttempts: 3 }))
      expect(refused).toMatchObject({ code: 'FOREIGN_SERVER', retryable: false, data: { path: socketPath, owner: NOBODY } })
      expect(refused?.message).toContain('allowForeignServer: true')
      // Nor when it is a failover address, tried once the client's own server is not there.
      const failover = { socketRoot, appspace: 'test.', id: 'ours', failover: [{ id: 'server' }], connectAttempts: 3 }
      const refusedAsFailover = await rejection(connect(failover))
      expect(refusedAsFailover).toMatchObject({ code: 'FOREIGN_SERVER', data: { path: socketPath, owner: NOBODY } })
      expect(await report(impostor)).toEqual({ connections: 0, bytes: 0, received: [] })

      // Our server does not take the path over either; the impostor keeps it.
      const claim = await rejection(createServer({ store, socketRoot, appspace: 'test.', id: 'server' }))
      expect(claim?.code).toBe('ADDRESS_IN_USE')
      expect((await lstat(socketPath)).uid).toBe(NOBODY)

      // The impostor is one a client would use: told to trust it, our client connects and calls.
      await using trusting = await connect<typeof store>({ socketRoot, appspace: 'test.', id: 'server', allowForeignServer: true })
      expect([trusting.epoch, trusting.state.counter]).toEqual(['impostor', 999])
      const afterTrust = await report(impostor)
      expect(afterTrust.connections).toBe(1)
      expect(afterTrust.bytes).toBeGreaterThan(0)
      expect(afterTrust.received).toEqual(['hello'])
    } finally {
      await rm(shared, { recursive: true, force: true })
    }
  })

  it('with no socketRoot, server and client meet in a folder only this user can write to, not /tmp/', async () => {
    const id = `ownership-${process.pid}-${Date.now()}`
    await using server = await createServer({ store, id })
    const folder = dirname(server.path)
    expect(folder).not.toBe('/tmp')
    const stats = await lstat(folder)
    expect(stats.isDirectory()).toBe(true)
    expect(stats.uid).toBe(process.getuid?.())
    expect(stats.mode & 0o022).toBe(0)
    await using client = await connect<typeof store>({ id })
    expect(client.path).toBe(server.path)
    expect(await client.actions.increment(2)).toBe(2)
    console.log(`default socket path for user ${process.getuid?.()}: ${server.path}`)
  })
})
