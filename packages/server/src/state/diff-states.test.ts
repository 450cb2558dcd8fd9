import { applyPatches, deepFreeze, defineStore } from '@ipc-state/protocol'
import { create } from 'mutative'
import { describe, expect, it } from 'vitest'
import { MAX_REMOVAL_MOVES, diffStates } from './diff-states.js'
import { StoreRuntime } from './store-runtime.js'

/** What an action does to `base`: the next state, sharing what it did not touch, as the server gets it. */
const change = <T extends object>(base: T, recipe: (draft: T) => void): T => create(base, recipe) as T

/** `value` as a replica receives it. */
const wire = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T

const items = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ id: from + i }))

describe('diffStates', () => {
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
    ['reverse', (list) => void list.reverse(), 100],
    [
      'truncate',
      (list) => {
        list.length = 10
      },
      1,
    ],
  ])('turns %s into at most a few patches that reach the same array', (_label, recipe, atMost) => {
    const base = deepFreeze({ list: items(100) })
    const next = change(base, (draft) => recipe(draft.list))
    const patches = diffStates(base, next)
    expect(patches.length).toBeLessThanOrEqual(atMost)
    expect(applyPatches(base, wire(patches))).toEqual(wire(next))
  })

  it('sends an array whole rather than removals whose moves would cost the square of its length', () => {
    const base = deepFreeze({ list: items(100_000) })
    const next = change(base, (draft) => void draft.list.splice(0, 50_000))
    const patches = diffStates(base, next)
    expect(50_000 * 50_000).toBeGreaterThan(MAX_REMOVAL_MOVES)
    expect(patches).toEqual([{ op: 'replace', path: ['list'], value: next.list }])
    expect(applyPatches(base, wire(patches))).toEqual(wire(next))
    // A few removals from a long array stay removals.
    const shifted = change(base, (draft) => void draft.list.splice(0, 3))
    expect(diffStates(base, shifted)).toHaveLength(3)
  })

  it('gives a change inside an item of an array or object its own patch, not the whole item', () => {
    const base = deepFreeze({
      todos: [
        { id: 1, done: false, tags: ['a'] },
        { id: 2, done: false, tags: [] },
      ],
      meta: { n: 0, x: 1 },
    })
    const next = change(base, (draft) => {
      draft.todos[1]!.done = true
      draft.todos[0]!.tags.push('b')
      draft.meta.n = 1
    })
    expect(diffStates(base, next)).toEqual([
      { op: 'add', path: ['todos', 0, 'tags', 1], value: 'b' },
      { op: 'replace', path: ['todos', 1, 'done'], value: true },
      { op: 'replace', path: ['meta', 'n'], value: 1 },
    ])
  })

  it('removes and adds keys, replaces a value of another kind, and finds nothing in an unchanged state', () => {
    const base = deepFreeze({ a: 1, b: { c: [1] }, d: [1] as unknown })
    const next = change(base, (draft) => {
      delete (draft as { a?: number }).a
      ;(draft as Record<string, unknown>).e = { f: null }
      draft.d = { now: 'an object' }
    })
    const patches = diffStates(base, next)
    expect(patches).toEqual([
      { op: 'remove', path: ['a'] },
      { op: 'replace', path: ['d'], value: { now: 'an object' } },
      { op: 'add', path: ['e'], value: { f: null } },
    ])
    expect(applyPatches(base, wire(patches))).toEqual(wire(next))
    expect(
      diffStates(
        base,
        change(base, () => {}),
      ),
    ).toEqual([])
  })

  it('replaces an object with a Date, a Map or a class instance whole, for the commit to store as JSON carries it', () => {
    const base = deepFreeze({ a: { x: 1 }, b: { y: 2 }, c: { z: 3 } })
    const when = new Date(0)
    const next = change(base, (draft) => {
      ;(draft as Record<string, unknown>).a = when
      ;(draft as Record<string, unknown>).b = new Map([['k', 1]])
      ;(draft as Record<string, unknown>).c = new (class Point {
        x = 1
      })()
    })
    const patches = diffStates(base, next)
    expect(patches.map(({ op, path }) => [op, path])).toEqual([
      ['replace', ['a']],
      ['replace', ['b']],
      ['replace', ['c']],
    ])
    expect(patches[0]).toMatchObject({ value: when })
  })

  it('after a shift, writes over an item changed in the same action rather than patching the wrong one', () => {
    const base = deepFreeze({ list: items(10) })
    const next = change(base, (draft) => {
      draft.list.shift()
      draft.list[0]!.id = 99
    })
    expect(applyPatches(base, wire(diffStates(base, next)))).toEqual(wire(next))
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
    const applied = runtime.apply('post', 'hello', { clientId: 'c1', instanceId: 'c1-1' })
    expect(applied.patchesJson.length).toBeLessThan(1024)
    expect(applyPatches(before, JSON.parse(applied.patchesJson))).toEqual(runtime.state)
    expect(runtime.state.messages).toHaveLength(10_000)
    expect(runtime.state.messages.at(-1)).toEqual({ id: 10_000, text: 'hello' })
  })
})
