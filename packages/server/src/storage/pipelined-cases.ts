// The storage contract's cases for a storage that takes several writes at once: the order they were called in kept, and a write behind a refused one refused.
import { deepStrictEqual, equal, ok } from 'node:assert/strict'
import { type ContractServer, sameStore } from './contract-server.js'
import type { StoragePlace } from './storage-contract.js'

/** The cases only a storage whose `writesAtOnce` lets several writes be under way must pass. */
export function addPipelinedCases(
  add: (name: string, body: (place: StoragePlace) => Promise<void>) => void,
  server: (place: StoragePlace) => Promise<ContractServer>,
  shared: boolean,
): void {
  add(
    'takes several writes under way at once, as writesAtOnce lets it, and keeps them in the order they were called',
    async (place) => {
      const a = await server(place)
      await a.open()
      ok((a.storage.writesAtOnce?.() ?? 1) > 1, 'writesAtOnce lets more than one write be under way')
      const calls = Array.from({ length: 6 }, (_, i) => ({
        instanceId: 'i',
        id: i + 1,
        item: `at once ${i + 1}`,
        valueJson: `${i}`,
      }))
      const batches = a.changes(calls).map((change) => [change])
      deepStrictEqual(await a.writeAtOnce(batches), [undefined, undefined, undefined, undefined, undefined, undefined])
      equal(await a.write([a.change('i', 7, 'after them')]), undefined, 'a write after them follows them')
      await a.close()
      const b = await server(place)
      await b.open()
      sameStore(b, a)
      deepStrictEqual(b.state.items, [...calls.map((call) => call.item), 'after them'])
      deepStrictEqual(a.misuse, [], 'the storage called image() only where it may')
      await b.close()
    },
  )

  if (!shared) return
  add('refuses a write sent behind one that lost a race, even where its version lines up, and writes neither', async (place) => {
    const a = await server(place)
    const b = await server(place)
    await a.open()
    await b.open()
    // Made by b at version 0, the second on top of the first, before b heard of a's change.
    const [first, second] = b.changes([
      { instanceId: 'b', id: 1, item: 'b 1' },
      { instanceId: 'b', id: 2, item: 'b 2' },
    ])
    equal(await a.write([a.change('a', 1, 'from a', '"a"')]), undefined)
    // The store is at version 1, which `second` was made against: only the order of b's writes refuses it.
    deepStrictEqual(await b.writeAtOnce([[first!], [second!]]), [{ conflict: true }, { conflict: true }])
    equal(b.version, 1, "the winner's change was handed in")
    deepStrictEqual(b.state.items, ['from a'])
    equal(await b.write(b.changes([{ instanceId: 'b', id: 1, item: 'b 1 again' }])), undefined, 'made again on top, it is written')
    await Promise.all([a.close(), b.close()])
    const c = await server(place)
    await c.open()
    deepStrictEqual(c.state.items, ['from a', 'b 1 again'], 'neither refused write left anything')
    await c.close()
  })
}
