// The storage contract's conformance suite: every promise of `Storage` as a named case any test runner can run.
import { deepStrictEqual, equal, ok } from 'node:assert/strict'
import { ErrorCode, IpcStateError } from '@ipc-state/protocol'
import { ContractServer, fieldsOf, refusedWith, sameStore, writeSome } from './contract-server.js'
import { addPipelinedCases } from './pipelined-cases.js'
import { addSharedCases } from './shared-storage-cases.js'
import type { Storage } from './storage.js'

/** One place a storage keeps a store in, made fresh for each case. */
export interface StoragePlace {
  /** A new storage over this place: it finds what the storages before it wrote (once they closed, for one not shared). */
  storage(): Storage | Promise<Storage>
  /**
   * Makes the place refuse writes until the function it resolves with is called (say a full disk,
   * or a server out of memory). Without it, the case of a failed write does not run.
   */
  failWrites?(): (() => void | Promise<void>) | Promise<() => void | Promise<void>>
  /** Removes the place. Called once after each case, whatever happened. */
  dispose?(): void | Promise<void>
}

/** What the storage under test promises beyond every storage's contract. */
export interface StorageContractOptions {
  /** Several servers share the place, each through a storage of its own: compare-and-append, and what others wrote handed in. */
  shared?: boolean
  /** A storage not shared refuses to open a place another storage has open (`STORE_LOCKED`). */
  exclusive?: boolean
  /** Each place has {@link StoragePlace.failWrites}: the case of a failed write runs. */
  failWrites?: boolean
  /**
   * The storage takes several writes under way at once ({@link Storage.writesAtOnce} above 1 while
   * no write has to come alone): the cases of writes at once run.
   */
  pipelined?: boolean
  /** Batches the long case writes, enough for the storage under test to take snapshots. Default 300. */
  batches?: number
}

/** One case of the contract: `run` resolves when the storage keeps the promise named, and throws an `AssertionError` when not. */
export interface StorageCase {
  /** What the case checks, as a test's name. */
  name: string
  /** Runs the case; rejects when the storage breaks the contract. */
  run(): Promise<void>
}

/**
 * The cases a storage must pass to keep the storage contract, each on a fresh place from
 * `makePlace`. Runner-agnostic: run each case's `run()` with any test runner (see
 * {@link defineStorageContract} for one that takes a `test(name, fn)` function, as vitest's `it`).
 *
 * @example
 * ```ts
 * import { it } from 'vitest'
 * import { defineStorageContract, memoryPlace } from '@ipc-state/server/testing'
 * defineStorageContract(it, () => memoryPlace())
 * ```
 */
export function storageContract(
  makePlace: () => StoragePlace | Promise<StoragePlace>,
  options: StorageContractOptions = {},
): StorageCase[] {
  const cases: StorageCase[] = []
  const add = (name: string, body: (place: StoragePlace) => Promise<void>) =>
    cases.push({
      name,
      run: async () => {
        const place = await makePlace()
        try {
          await body(place)
        } finally {
          await place.dispose?.()
        }
      },
    })
  const server = async (place: StoragePlace, storeVersion = 1) => new ContractServer(await place.storage(), storeVersion)

  add('opens an empty place at the initial state, version 0, with the new epoch and the running store version', async (place) => {
    const a = await server(place)
    const log = await a.open('epoch-1')
    deepStrictEqual(
      { ...log, damaged: undefined },
      {
        epoch: 'epoch-1',
        storeVersion: 1,
        version: 0,
        state: { count: 0, items: [] },
        instances: [],
        entries: [],
        damaged: undefined,
      },
    )
    await a.close()
  })

  add('hands back every entry after a close, in order, each field as given, and keeps the epoch', async (place) => {
    const a = await server(place)
    await a.open('first')
    const written = await writeSome(a, 3)
    await a.close()
    const b = await server(place)
    const log = await b.open('second')
    equal(log.epoch, 'first', 'a reopened place keeps its epoch')
    sameStore(b, a)
    const byVersion = new Map(written.filter((entry) => entry.kind === 'change').map((entry) => [entry.version, entry]))
    for (const entry of log.entries) {
      if (entry.kind !== 'change') continue
      const given = byVersion.get(entry.version)
      ok(given !== undefined, `change ${entry.version} came back, though it was never written`)
      deepStrictEqual(
        fieldsOf(entry, options.shared),
        fieldsOf(given, options.shared),
        `change ${entry.version} came back as given`,
      )
    }
    await b.close()
  })

  add('keeps who is present: the join and leave marks of changes, and the instances present in its snapshots', async (place) => {
    const a = await server(place)
    await a.open()
    const marks = [
      { joined: { instanceId: 'p-1', clientId: 'c' } },
      { joined: { instanceId: 'p-2', clientId: 'c', server: 's-1' } },
      { left: 'p-1' },
    ]
    for (const mark of marks) {
      const [change] = a.changes([{ instanceId: '', id: 0, item: 'presence' }])
      equal(await a.write([{ ...change!, presenceJson: JSON.stringify(mark) }]), undefined, 'a change with a mark was written')
    }
    deepStrictEqual(a.present, [{ instanceId: 'p-2', clientId: 'c', server: 's-1' }])
    await a.close()
    const b = await server(place)
    await b.open()
    deepStrictEqual(b.present, a.present, 'the marks came back, each as given')
    // Enough writes for a snapshot to fold the marks: the instances present must be in it.
    await writeSome(b, options.batches ?? 300)
    await b.close()
    const c = await server(place)
    await c.open()
    deepStrictEqual(c.present, a.present, 'a snapshot keeps the instances present')
    sameStore(c, b)
    await c.close()
  })

  add('takes snapshots only inside write or close, and hands back the same store and answers after many writes', async (place) => {
    const a = await server(place)
    await a.open()
    await writeSome(a, options.batches ?? 300)
    await a.close()
    const b = await server(place)
    await b.open()
    sameStore(b, a)
    await b.close()
    deepStrictEqual([...a.misuse, ...b.misuse], [], 'the storage called image() only where it may')
  })

  add('keeps a snapshot and the entries after it across several closes and reopens', async (place) => {
    let previous: ContractServer | undefined
    for (let run = 0; run < 4; run++) {
      const a = await server(place)
      await a.open()
      if (previous !== undefined) sameStore(a, previous)
      await writeSome(a, 40, `run${run}`)
      await a.close()
      previous = a
    }
    const last = await server(place)
    await last.open()
    sameStore(last, previous!)
    await last.close()
  })
  add(
    'hands back a store an older store version wrote; migrate keeps the migrated store, later entries apply to it, an older server is refused',
    async (place) => {
      const v1 = await server(place, 1)
      await v1.open()
      await writeSome(v1, 3)
      await v1.close()
      const v2 = await server(place, 2)
      const log = await v2.open()
      equal(v2.storeVersion, 1, 'the store comes back with the store version that wrote it')
      equal(log.storeVersion, 1)
      const migrated = { count: v2.version * 10, items: ['migrated'] }
      equal(await v2.migrate(migrated), undefined, 'migrate resolves with nothing once it kept the store')
      equal(await v2.write([v2.change('m', 1, 'after', '"after"')]), undefined)
      await v2.close()
      const again = await server(place, 2)
      await again.open()
      sameStore(again, v2)
      equal(again.storeVersion, 2)
      deepStrictEqual(again.state.items, ['migrated', 'after'])
      await again.close()
      await refusedWith(
        server(place, 1).then((old) => old.open()),
        ErrorCode.STORE_TOO_NEW,
      )
    },
  )

  if (options.exclusive) {
    add(
      'refuses a second storage on a place another has open with STORE_LOCKED, and opens it once that one closed',
      async (place) => {
        const a = await server(place)
        await a.open()
        await refusedWith(
          server(place).then((b) => b.open()),
          ErrorCode.STORE_LOCKED,
        )
        await a.close()
        const c = await server(place)
        await c.open()
        await c.close()
      },
    )
  }

  if (options.failWrites) {
    add('counts a write that failed for nothing, and takes the next one after the last that succeeded', async (place) => {
      const a = await server(place)
      await a.open()
      await writeSome(a, 2)
      const restore = await place.failWrites!()
      const lost = a.change('i', 100, 'lost', '"lost"')
      const error = await a.write([lost]).then(
        () => undefined,
        (thrown: unknown) => thrown,
      )
      await restore()
      ok(error instanceof IpcStateError, `a failed write rejects with an IpcStateError, not ${String(error)}`)
      ok([ErrorCode.PERSIST_FAILED, ErrorCode.BACKEND_UNAVAILABLE].includes(error.code as never), `not ${error.code}`)
      equal(await a.write([a.change('i', 101, 'kept', '"kept"')]), undefined, 'the next write succeeds')
      await a.close()
      const b = await server(place)
      await b.open()
      sameStore(b, a)
      ok(!(b.state.items as string[]).includes('lost'), 'nothing of the failed write is kept')
      await b.close()
    })
  }

  if (options.pipelined) addPipelinedCases(add, server, options.shared ?? false)
  if (options.shared) addSharedCases(add, server)
  return cases
}

/**
 * Registers every case of {@link storageContract} with `test`, a function of a test runner that
 * takes a name and an async body (vitest's or jest's `it`, node:test's `test`).
 */
export function defineStorageContract(
  test: (name: string, run: () => Promise<void>) => unknown,
  makePlace: () => StoragePlace | Promise<StoragePlace>,
  options: StorageContractOptions = {},
): void {
  for (const { name, run } of storageContract(makePlace, options)) test(name, run)
}
