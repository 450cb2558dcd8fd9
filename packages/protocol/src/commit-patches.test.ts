import { describe, it, expect } from 'vitest'
import { thrown } from '../test/test-helpers.js'
import { applyPatches, commitPatches, deepFreeze } from './apply-patches.js'
import type { Patch } from './messages.js'

const base = () => deepFreeze({ d: 1, list: [1, 2], nested: { keep: true } } as Record<string, unknown>)

/** What a replica holding `base` computes from the patches as they travel. */
const onReplica = (from: unknown, patches: Patch[]) => applyPatches(from, JSON.parse(JSON.stringify(patches)) as Patch[])

describe('commitPatches', () => {
  it.each<[string, Patch[], unknown]>([
    [
      'undefined replacing a property removes it',
      [{ op: 'replace', path: ['d'], value: undefined }],
      { list: [1, 2], nested: { keep: true } },
    ],
    [
      'undefined added as a new property leaves nothing',
      [{ op: 'add', path: ['e'], value: undefined }],
      { d: 1, list: [1, 2], nested: { keep: true } },
    ],
    [
      'a function or a symbol as a property is removed',
      [
        { op: 'replace', path: ['d'], value: () => 1 },
        { op: 'add', path: ['s'], value: Symbol('s') },
      ],
      { list: [1, 2], nested: { keep: true } },
    ],
    [
      'undefined pushed onto an array is null',
      [{ op: 'add', path: ['list', 2], value: undefined }],
      { d: 1, list: [1, 2, null], nested: { keep: true } },
    ],
    [
      'NaN, Infinity and -0 are null, null and 0',
      [{ op: 'add', path: ['n'], value: [Number.NaN, Number.POSITIVE_INFINITY, -0] }],
      { d: 1, list: [1, 2], nested: { keep: true }, n: [null, null, 0] },
    ],
    [
      'a Date is its ISO string',
      [{ op: 'replace', path: ['d'], value: new Date(0) }],
      { d: '1970-01-01T00:00:00.000Z', list: [1, 2], nested: { keep: true } },
    ],
    [
      'a Map and a Set are {}',
      [{ op: 'add', path: ['m'], value: [new Map([['a', 1]]), new Set([1])] }],
      { d: 1, list: [1, 2], nested: { keep: true }, m: [{}, {}] },
    ],
    [
      'undefined inside a new value goes as JSON drops it',
      [{ op: 'add', path: ['o'], value: { a: undefined, b: [undefined], c: { toJSON: () => 'c' } } }],
      { d: 1, list: [1, 2], nested: { keep: true }, o: { b: [null], c: 'c' } },
    ],
    // The holes of `list[4] = 5` arrive as adds of undefined, one per index.
    [
      'holes of a sparse array are null',
      [
        { op: 'add', path: ['list', 2], value: undefined },
        { op: 'add', path: ['list', 3], value: undefined },
        { op: 'add', path: ['list', 4], value: 5 },
      ],
      { d: 1, list: [1, 2, null, null, 5], nested: { keep: true } },
    ],
  ])('%s, and the replica computes the same', (_label, patches, expected) => {
    const from = base()
    const { state, patches: applied } = commitPatches(from, patches)
    expect(state).toStrictEqual(expected)
    expect(onReplica(from, applied)).toStrictEqual(state)
    expect(from).toStrictEqual(base())
  })

  it('sends no patch for a write that leaves nothing', () => {
    expect(commitPatches(base(), [{ op: 'add', path: ['e'], value: undefined }]).patches).toEqual([])
  })

  it('turns undefined over an existing key into a removal on the wire', () => {
    expect(commitPatches(base(), [{ op: 'replace', path: ['d'], value: undefined }]).patches).toEqual([
      { op: 'remove', path: ['d'] },
    ])
  })

  it('shares untouched branches and freezes what it made', () => {
    const from = base()
    const { state } = commitPatches(from, [{ op: 'add', path: ['list', 2], value: { x: new Date(0) } }])
    expect((state as typeof from).nested).toBe(from.nested)
    expect(Object.isFrozen((state as { list: object[] }).list[2])).toBe(true)
  })

  it.each([
    ['a BigInt', 1n],
    [
      'a cycle',
      (() => {
        const o: Record<string, unknown> = {}
        o.self = o
        return o
      })(),
    ],
  ])('refuses %s with a TypeError naming the path, leaving the base as it was', (_label, value) => {
    const from = base()
    const error = thrown(() => commitPatches(from, [{ op: 'add', path: ['nested', 'bad'], value }])) as Error
    expect(error).toBeInstanceOf(TypeError)
    expect(error.message).toMatch(/^Not JSON at \/nested\/bad: /)
    expect(from).toStrictEqual(base())
  })

  it('keeps the checks of applyPatches for patches that do not fit', () => {
    const error = thrown(() => commitPatches(base(), [{ op: 'remove', path: ['missing'] }]))
    expect(error).toMatchObject({ code: 'BAD_REQUEST' })
  })
})
