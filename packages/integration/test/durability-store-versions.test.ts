// A data folder remembers which version of the store wrote it: an older store refuses it, a newer
// one migrates it once.
import { connect } from '@ipc-state/client'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { dataFiles, fileHash, type TempDataDir, tempDataDir } from '../src/storage/data-dir.js'
import { type FixtureAddress, fixtureAddress } from '../src/processes/fixture-env.js'
import { fixture, type TempSocketRoot, tempSocketRoot } from '../src/processes/processes.js'
import { refusedStart } from '../src/processes/refused-start.js'
import { startServer } from '../src/processes/server-fixture.js'
import type { StateV1, StateV2, storeV1, storeV2 } from '../src/stores/versioned-stores.js'

const script = fixture('servers/versioned-server.ts')
const storeEnv = (dir: string, version: 1 | 2) => ({ IPC_STATE_DATA_DIR: dir, IPC_STATE_STORE_VERSION: String(version) })
const startVersion = <State>(address: FixtureAddress, dir: string, version: 1 | 2) =>
  startServer<State>({ ...address, script, env: storeEnv(dir, version) })

/** Every file in `dir` with the hash of its bytes. */
async function folderPrint(dir: string): Promise<Record<string, string>> {
  const names = await dataFiles(dir)
  return Object.fromEntries(await Promise.all(names.map(async (name) => [name, await fileHash(`${dir}/${name}`)])))
}

describe('store versions in a data folder', () => {
  let data: TempDataDir
  let sockets: TempSocketRoot
  let address: FixtureAddress
  beforeEach(async () => {
    data = await tempDataDir()
    sockets = await tempSocketRoot()
    address = fixtureAddress(sockets)
  })
  afterEach(async () => {
    await data[Symbol.asyncDispose]()
    await sockets[Symbol.asyncDispose]()
  })

  it('a folder written by store version 2 refuses a server of version 1 with STORE_TOO_NEW, and stays as it was', async () => {
    {
      await using server = await startVersion<StateV2>(address, data.dir, 2)
      await using client = await connect<typeof storeV2>(address)
      expect(await client.actions.addPerson('ada')).toBe(1)
      expect(await server.process.stop('SIGTERM')).toEqual({ code: 0, signal: null })
    }
    const before = await folderPrint(data.dir)

    const { error, exit } = await refusedStart({ address, script, env: storeEnv(data.dir, 1) })
    expect(error.code, error.message as string).toBe('STORE_TOO_NEW')
    expect(exit).toEqual({ code: 1, signal: null })
    expect(await folderPrint(data.dir)).toEqual(before)

    // The refusal harmed nothing: version 2 still starts on it, with its state.
    await using again = await startVersion<StateV2>(address, data.dir, 2)
    expect((await again.view()).state).toEqual({ total: 0, people: [{ name: 'ada' }], migratedFrom: null })
  })

  it('a server of store version 2 migrates a folder written by version 1, once, and keeps what comes after', async () => {
    {
      await using server = await startVersion<StateV1>(address, data.dir, 1)
      await using client = await connect<typeof storeV1>(address)
      expect(await client.actions.increment(5)).toBe(5)
      expect(await client.actions.addName('ada')).toBe(1)
      expect(await client.actions.addName('bob')).toBe(2)
      expect((await server.view()).state).toEqual({ counter: 5, names: ['ada', 'bob'] })
      // Killed: version 2 reads it back from the journal, not from a clean shutdown.
      await server.process.stop('SIGKILL')
    }

    {
      await using server = await startVersion<StateV2>(address, data.dir, 2)
      expect((await server.view()).state).toEqual({ total: 5, people: [{ name: 'ada' }, { name: 'bob' }], migratedFrom: 1 })
      await using client = await connect<typeof storeV2>(address)
      expect(await client.actions.addPerson('cy')).toBe(3)
      expect(await client.actions.increment(2)).toBe(7)
      await server.process.stop('SIGKILL')
    }

    // Started again, version 2 finds its own state: the migration is not run a second time.
    await using server = await startVersion<StateV2>(address, data.dir, 2)
    const view = await server.view()
    expect(view.state).toEqual({ total: 7, people: [{ name: 'ada' }, { name: 'bob' }, { name: 'cy' }], migratedFrom: 1 })
    // And version 1 may no longer open what version 2 wrote.
    await server.process.stop('SIGKILL')
    const { error } = await refusedStart({ address, script, env: storeEnv(data.dir, 1) })
    expect(error.code, error.message as string).toBe('STORE_TOO_NEW')
  })
})
