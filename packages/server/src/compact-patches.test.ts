import { applyPatches, deepFreeze, defineStore, type Patch } from '@ipc-state/protocol'
import { create } from 'mutative'
import { describe, expect, it } from 'vitest'
import { compactPatches } from './compact-patches.js'
import { StoreRuntime } from './store-runtime.js'

/** What an action does to `base`, as the library reports it: the next state and its patches. */
function change<T extends object>(base: T, recipe: (draft: T) => void): { next: T; patches: Patch[] } {
  const [next, patches] = create(base, recipe, { enablePatches: true }) as unknown as [T, Patch[]]
  return { next, patches }
}

const items = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ id: from + i }))

describe('compactPatches', () => {
  it.each<[string, (list: { id: number }[]) => void, number]>([
    ['shift', (list) => void list.shift(), 1],
    [
      'push then shift, as a capped log does',
      (list) => {
        list.push({ id: 100 })
        list.shift()
      },
      2,
    ],
    ['remove from the middle', (list) => void list.splice(40, 1), 1],
    ['remove three from the front', (list) => void list.splice(0, 3), 3],
    ['insert at the front', (list) => void list.unshift({ id: -1 }), 1 + 100],
  ])('rewrites %s into patches that reach the same array', (_label, recipe, atMost) => {
    const base = deepFreeze({ list: items(100) })
    const { next, patches } = change(base, (draft) => recipe(draft.list))
    const compacted = compactPatches(base, next, patches)
    expect(compacted.length).toBeLessThanOrEqual(Math.min(atMost, patches.length))
    expect(applyPatches(base, JSON.parse(JSON.stringify(compacted)))).toEqual(JSON.parse(JSON.stringify(next)))
  })

  it('keeps the patches of an array when a change sits inside one of its items', () => {
    const base = deepFreeze({ list: items(10) })
    const { next, patches } = change(base, (draft) => {
      draft.list.shift()
      draft.list[0]!.id = 99
    })
    expect(compactPatches(base, next, patches)).toEqual(patches)
  })

  it('keeps patches that are already as few', () => {
    const base = deepFreeze({ list: [1, 2], n: 0 })
    const { next, patches } = change(base, (draft) => {
      draft.list[0] = 3
      draft.list[1] = 4
      draft.n = 1
    })
    expect(compactPatches(base, next, patches)).toEqual(patches)
  })
})

describe('a capped list on the wire', () => {
  it('costs about the size of what changed: one push and one shift on 10,000 messages send under 1 KiB', () => {
    const store = defineStore({
      initialState: { messages: items(10_000).map(({ id }) => ({ id, text: `message ${id}` })) },
      actions: {
        post(state, text: string) {
          state.messages.push({ id: state.messages.length, text })
          state.messages.shift()
        },
      },
    })
    const runtime = new StoreRuntime(store)
    const before = runtime.state
    const applied = runtime.apply('post', 'hello', 'c1')
    expect(applied.patchesJson.length).toBeLessThan(1024)
    expect(applyPatches(before, JSON.parse(applied.patchesJson))).toEqual(runtime.state)
    expect(runtime.state.messages).toHaveLength(10_000)
    expect(runtime.state.messages.at(-1)).toEqual({ id: 10_000, text: 'hello' })
  })
})
