// Ordinary actions that index the state with keys and indexes a caller chooses, called by a hostile
// client against a real server process: no key reaches a prototype, a built-in constructor or a
// built-in function of the server, and no index makes the server pay for millions of slots. Other
// clients, replicas and a restart from the data folder carry on as if nothing had been called.
import { connect, type IpcStateClient } from '@ipc-state/client'
import { ErrorCode } from '@ipc-state/protocol'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDataDir } from '../src/storage/data-dir.js'
import type { PathsStore } from '../src/stores/paths-store.js'
import { ask, fixture } from '../src/processes/processes.js'
import { type ServerHandle, startServer } from '../src/processes/server-fixture.js'
import type { PathsState } from '../src/stores/paths-store.js'

type Client = IpcStateClient<PathsStore>

const start = (env = {}) => startServer<PathsState>({ script: fixture('servers/paths-server.ts'), env })
const clientOf = (server: ServerHandle<PathsState>, binaryFrames = true) =>
  connect<PathsStore>({ ...server.address, binaryFrames, timeout: 20_000 })

/** The built-in prototypes, constructors and functions of the server that are no longer as they were. */
const changedBuiltIns = async (server: ServerHandle<PathsState>) => (await ask(server.process, 'prototypes')).changed

/** The longest the server's event loop was blocked since the last ask, in milliseconds. */
const lagMs = async (server: ServerHandle<PathsState>) => (await ask(server.process, 'lag')).maxMs as number

/** This process's own prototypes: what a replica could be polluted through. */
const localPrototypes = () => [...Object.keys(Object.prototype), ...Object.keys(Array.prototype)]

// Each is `state.items[key][sub] = value` or `state.list[key][sub] = value` with keys from the caller.
const attacks: ['setItem' | 'setListItem' | 'setInFresh', string, string][] = [
  // The gadget: the server's decoder then took another client's `increment()` for `increment(1000)`.
  ['setItem', '__proto__', 'input'],
  ['setItem', '__proto__', 'binaryFrames'],
  ['setItem', 'constructor', 'keys'],
  ['setItem', 'constructor', 'prototype'],
  ['setItem', 'prototype', 'input'],
  ['setItem', 'hasOwnProperty', 'call'],
  ['setListItem', '__proto__', 'input'],
  ['setListItem', 'constructor', 'isArray'],
  ['setListItem', 'push', 'call'],
  // Through an object the action made itself, which no draft guards: what it adds is removed.
  ['setInFresh', '__proto__', 'input'],
]

describe('keys a caller chooses', () => {
  let server: ServerHandle<PathsState>
  let attacker: Client

  beforeAll(async () => {
    server = await start()
    attacker = await clientOf(server)
  })

  afterAll(async () => {
    await attacker?.close()
    await server?.[Symbol.asyncDispose]()
  })

  it.each(attacks)(
    '%s with key %j and sub %j fails, and the server stays whole for every other client',
    async (action, key, sub) => {
      await expect(attacker.actions[action]({ key, sub, value: 1000 })).rejects.toMatchObject({ code: ErrorCode.ACTION_FAILED })
      expect(await changedBuiltIns(server)).toEqual([])
      // A client offering binary frames (the default) connects, and its calls add what they say.
      await using other = await clientOf(server)
      const before = other.state.counter
      expect(await other.actions.increment(1)).toBe(before + 1)
      expect(await other.actions.increment()).toBe(before + 2)
      await using plain = await clientOf(server, false)
      expect(await plain.actions.increment(1)).toBe(before + 3)
      expect((await server.view()).state).toEqual({ counter: before + 3, items: { a: { x: 1 } }, list: [1, 2, 3] })
      // The attacker's replica, in this process, followed the state and nothing else.
      expect(localPrototypes()).toEqual([])
      expect(attacker.state.items).toEqual({ a: { x: 1 } })
    },
  )
})

describe('array writes far past the end', () => {
  let server: ServerHandle<PathsState>
  let attacker: Client

  beforeAll(async () => {
    server = await start()
    attacker = await clientOf(server)
  })

  afterAll(async () => {
    await attacker?.close()
    await server?.[Symbol.asyncDispose]()
  })

  it.each([1e6, 1e7])(
    'index %d fails at once with a clear error; the server keeps answering and its event loop is never blocked for a second',
    async (index) => {
      await lagMs(server)
      const other = await clientOf(server)
      try {
        const call = attacker.actions.setAt({ index, value: 'x' })
        // Another client's call made while the attack is under way is answered too.
        const meanwhile = other.actions.increment(1)
        await expect(call).rejects.toMatchObject({ code: ErrorCode.ACTION_FAILED, message: expect.stringMatching(/holes/) })
        await meanwhile
        expect(await other.actions.increment(1)).toBe(other.state.counter)
        expect((await server.view()).state.list).toEqual([1, 2, 3])
        expect(await lagMs(server)).toBeLessThan(1000)
        expect((await server.stats()).rss).toBeLessThan(512 * 1024 * 1024)
      } finally {
        await other.close()
      }
    },
  )

  it('a few holes still become null, on the server and on every replica', async () => {
    await attacker.actions.setAt({ index: 5, value: 'x' })
    expect((await server.view()).state.list).toEqual([1, 2, 3, null, null, 'x'])
    await using reader = await clientOf(server)
    expect(reader.state.list).toEqual([1, 2, 3, null, null, 'x'])
  })
})

describe('a server with a data folder', () => {
  it('keeps its built-ins whole through the attacks and after a restart from the folder', async () => {
    await using data = await tempDataDir()
    const env = { IPC_STATE_DATA_DIR: data.dir }
    {
      await using server = await start(env)
      await using attacker = await clientOf(server)
      for (const [action, key, sub] of attacks) {
        await expect(attacker.actions[action]({ key, sub, value: 1000 })).rejects.toMatchObject({ code: ErrorCode.ACTION_FAILED })
      }
      await expect(attacker.actions.setAt({ index: 1e6, value: 'x' })).rejects.toMatchObject({ code: ErrorCode.ACTION_FAILED })
      expect(await attacker.actions.increment()).toBe(1)
      expect(await changedBuiltIns(server)).toEqual([])
    }
    await using restarted = await start(env)
    expect(await changedBuiltIns(restarted)).toEqual([])
    expect((await restarted.view()).state).toEqual({ counter: 1, items: { a: { x: 1 } }, list: [1, 2, 3] })
    await using client = await clientOf(restarted)
    expect(await client.actions.increment()).toBe(2)
    expect(localPrototypes()).toEqual([])
  })
})
