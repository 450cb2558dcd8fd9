// The storage contract's cases for a storage several servers share: compare-and-append, what others wrote handed in, one migration.
import { deepStrictEqual, equal, ok } from 'node:assert/strict'
import { type ContractServer, fieldsOf, sameStore, writeSome } from './contract-server.js'
import type { StorageEntry } from './storage.js'
import type { StoragePlace } from './storage-contract.js'

/** The cases only a storage several servers share must pass. */
export function addSharedCases(
  add: (name: string, body: (place: StoragePlace) => Promise<void>) => void,
  server: (place: StoragePlace, storeVersion?: number) => Promise<ContractServer>,
): void {
  add(
    'refuses a write made against a version another server moved past: a conflict, nothing written, the winner handed in first',
    async (place) => {
      const a = await server(place)
      const b = await server(place)
      await a.open()
      await b.open()
      // Made at version 0, as a call b ran before it heard of a's change.
      const stale = b.change('b', 1, 'from b', '"b"')
      equal(await a.write([a.change('a', 1, 'from a', '"a"')]), undefined)
      deepStrictEqual(await b.write([stale]), { conflict: true })
      equal(b.version, 1, "the winner's change was handed in before the conflict resolved")
      deepStrictEqual(b.state.items, ['from a'])
      equal(await b.write([b.change('b', 1, 'from b', '"b"')]), undefined, 'the call made again on top of it is written')
      await a.reached(2)
      deepStrictEqual(a.state.items, ['from a', 'from b'])
      await Promise.all([a.close(), b.close()])
      const c = await server(place)
      await c.open()
      deepStrictEqual(c.state.items, ['from a', 'from b'], 'the refused write left nothing')
      await c.close()
    },
  )

  add('hands each entry another server wrote to every other server once, in order, with every field', async (place) => {
    const a = await server(place)
    const b = await server(place)
    await a.open()
    await b.open()
    const written = await writeSome(a, 30)
    await b.reached(a.version)
    const fields = (entry: StorageEntry) => (entry.kind === 'change' ? fieldsOf(entry, true) : entry)
    if (b.reloads === 0) {
      deepStrictEqual(b.received.map(fields), written.map(fields), "every entry once, in the writer's order")
    } else {
      // Where a snapshot trimmed the log past it, a whole store came instead: the entries that did come are still each once, in order.
      const versions = b.received.flatMap((entry) => (entry.kind === 'change' ? [entry.version] : []))
      ok(
        versions.every((version, i) => i === 0 || version > versions[i - 1]!),
        'no change twice, none out of order',
      )
      const byVersion = new Map(written.flatMap((entry) => (entry.kind === 'change' ? [[entry.version, fields(entry)]] : [])))
      for (const entry of b.received) if (entry.kind === 'change') deepStrictEqual(fields(entry), byVersion.get(entry.version))
    }
    sameStore(b, a)
    await Promise.all([a.close(), b.close()])
  })

  add('keeps one migration: a server that migrates second gets the store as it is now, already migrated', async (place) => {
    const v1 = await server(place, 1)
    await v1.open()
    await writeSome(v1, 2)
    await v1.close()
    const a = await server(place, 2)
    const b = await server(place, 2)
    await a.open()
    await b.open()
    equal(b.storeVersion, 1)
    equal(await a.migrate({ count: 100, items: ['by a'] }), undefined)
    const now = await b.migrate({ count: 200, items: ['by b'] })
    ok(now !== undefined, 'the second migration is refused, and the store handed back')
    equal(b.storeVersion, 2, 'handed back migrated')
    deepStrictEqual(b.state.items, ['by a'])
    equal(await b.write([b.change('b', 1, 'after', '"x"')]), undefined)
    await a.reached(b.version)
    deepStrictEqual(a.state.items, ['by a', 'after'])
    await Promise.all([a.close(), b.close()])
  })

  add('holds a lease for each open server, when it offers leases: alive while it is open, gone once it closed', async (place) => {
    const a = await server(place)
    const b = await server(place)
    await a.open()
    await b.open()
    const [mine, theirs] = [a.storage.leases, b.storage.leases]
    equal(mine === undefined, theirs === undefined, 'every storage over the place offers leases, or none does')
    if (mine === undefined || theirs === undefined) {
      await Promise.all([a.close(), b.close()])
      return
    }
    ok(mine.serverId !== theirs.serverId, 'each server holds a lease of its own')
    ok(mine.leaseMs > 0)
    deepStrictEqual(await theirs.alive([mine.serverId, theirs.serverId, 'never-opened']), new Set([mine.serverId, theirs.serverId]))
    await a.close()
    deepStrictEqual(
      await theirs.alive([mine.serverId, theirs.serverId]),
      new Set([theirs.serverId]),
      'a closed server gives its lease up',
    )
    await b.close()
  })
}
