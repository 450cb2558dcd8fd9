import { defineStore, ErrorCode, type IpcStateError } from '@ipc-state/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import { MAX_NEW_HOLES, createDraft } from './draft-guard.js'
import { StoreRuntime } from './store-runtime.js'

type Path = { key: string; sub: string; value: unknown }

const store = defineStore({
  initialState: { counter: 0, items: { a: { x: 1 } } as Record<string, Record<string, unknown>>, list: [1, 2, 3] as unknown[] },
  actions: {
    increment(state, by: number = 1) {
      state.counter += by
    },
    setItem(state, { key, sub, value }: Path) {
      state.items[key]![sub] = value
    },
    setListItem(state, { key, sub, value }: Path) {
      ;(state.list as unknown as Record<string, Record<string, unknown>>)[key]![sub] = value
    },
    deepSet(state, { key, sub, value }: Path) {
      const items = state.items as Record<string, Record<string, Record<string, unknown>>>
      items.b = {}
      items.b[key]![sub] = value
    },
    setAt(state, { index, value }: { index: number; value: unknown }) {
      state.list[index] = value
    },
    setLength(state, length: number | string) {
      state.list.length = length as number
    },
    useMethods(state) {
      state.list.push(Object.hasOwn(state.items.a!, 'x'), [...state.list].length, `${state.items.a}`)
      return state.list.map((item) => typeof item)
    },
  },
})

const failure = (run: () => unknown): IpcStateError => {
  try {
    run()
  } catch (error) {
    return error as IpcStateError
  }
  throw new Error('expected a throw')
}

/** Whatever a failed test left behind must not spoil the next one. */
afterEach(() => {
  for (const key in Array.prototype) delete (Array.prototype as unknown as Record<string, unknown>)[key]
  for (const key in Object.prototype) delete (Object.prototype as Record<string, unknown>)[key]
})

const clean = () => {
  expect(Object.keys(Object.prototype)).toEqual([])
  expect(Object.keys(Array.prototype)).toEqual([])
  expect(Object.hasOwn(Object.prototype.hasOwnProperty, 'call')).toBe(false)
  expect(Object.hasOwn(Array.prototype.push, 'call')).toBe(false)
  expect(Object.hasOwn(Object, 'keys') && Object.keys === Object.getOwnPropertyDescriptor(Object, 'keys')!.value).toBe(true)
}

describe('drafts', () => {
  it.each([
    ['setItem', '__proto__', 'polluted'],
    ['setItem', 'constructor', 'prototype'],
    ['setItem', 'constructor', 'keys'],
    ['setItem', 'hasOwnProperty', 'call'],
    ['setItem', 'toString', 'call'],
    ['setListItem', '__proto__', 'polluted'],
    ['setListItem', 'constructor', 'isArray'],
    ['setListItem', 'push', 'call'],
    ['setListItem', 'concat', 'apply'],
    ['setListItem', 'map', '__proto__'],
  ])('%s with key %j and sub %j reaches no prototype, constructor or built-in function', (action, key, sub) => {
    const runtime = new StoreRuntime(store)
    const error = failure(() => runtime.apply(action, { key, sub, value: 1000 }, { clientId: 'c1', instanceId: 'c1-1' }))
    expect(error.code).toBe(ErrorCode.ACTION_FAILED)
    clean()
    expect(runtime.version).toBe(0)
    runtime.apply('increment', 1, { clientId: 'c2', instanceId: 'c2-1' })
    expect(runtime.state.counter).toBe(1)
  })

  it('an object the action made itself may reach Object.prototype, but what it adds there is removed and the action fails', () => {
    const runtime = new StoreRuntime(store)
    const error = failure(() =>
      runtime.apply('deepSet', { key: '__proto__', sub: 'input', value: 1000 }, { clientId: 'c1', instanceId: 'c1-1' }),
    )
    expect(error.code).toBe(ErrorCode.ACTION_FAILED)
    expect(error.message).toContain('"input" into a built-in prototype')
    clean()
    expect(runtime.version).toBe(0)
  })

  it('keeps the methods an action uses: they are called with the draft as `this`', () => {
    const runtime = new StoreRuntime(store)
    const applied = runtime.apply('useMethods', undefined, { clientId: 'c1', instanceId: 'c1-1' })
    expect(JSON.parse(applied.valueJson!)).toEqual(['number', 'number', 'number', 'boolean', 'number', 'string'])
    expect(runtime.state.list).toEqual([1, 2, 3, true, 3, '[object Object]'])
  })

  it('answers __proto__ and constructor with undefined, as an object without a prototype does', () => {
    const seen = createDraftReads()
    expect(seen).toEqual({
      proto: undefined,
      constructor: undefined,
      listProto: undefined,
      listConstructor: undefined,
      frozen: true,
    })
  })
})

function createDraftReads() {
  let seen: Record<string, unknown> = {}
  // A key from a variable, as an action's input supplies it.
  const proto: string = '__proto__'
  createDraft({ o: { a: 1 } as Record<string, unknown>, l: [1] }, (draft) => {
    const o = draft.o
    const l = draft.l
    seen = {
      proto: o[proto],
      constructor: o.constructor,
      listProto: (l as unknown as Record<string, unknown>)[proto],
      listConstructor: l.constructor,
      frozen: Object.isFrozen(o.hasOwnProperty) && Object.getPrototypeOf(o.hasOwnProperty) === null,
    }
  })
  return seen
}

describe('array writes far past the end', () => {
  it.each([1e6, 1e7, 2 ** 32])('index %d is refused before the draft library pays a slot for it', (index) => {
    const runtime = new StoreRuntime(store)
    const error = failure(() => runtime.apply('setAt', { index, value: 'x' }, { clientId: 'c1', instanceId: 'c1-1' }))
    expect(error.code).toBe(ErrorCode.ACTION_FAILED)
    expect(error.message).toMatch(/holes/)
    expect(runtime.state.list).toEqual([1, 2, 3])
  })

  it.each([1e6, 1e9, '1e9'])('length %j is refused', (length) => {
    const runtime = new StoreRuntime(store)
    expect(failure(() => runtime.apply('setLength', length, { clientId: 'c1', instanceId: 'c1-1' })).code).toBe(
      ErrorCode.ACTION_FAILED,
    )
    expect(runtime.state.list).toEqual([1, 2, 3])
  })

  it(`a few holes (up to ${MAX_NEW_HOLES}) still become null`, () => {
    const runtime = new StoreRuntime(store)
    runtime.apply('setAt', { index: 3 + MAX_NEW_HOLES, value: 'x' }, { clientId: 'c1', instanceId: 'c1-1' })
    expect(runtime.state.list).toHaveLength(4 + MAX_NEW_HOLES)
    expect(runtime.state.list[3]).toBeNull()
    expect(runtime.state.list.at(-1)).toBe('x')
    runtime.apply('setLength', runtime.state.list.length + MAX_NEW_HOLES, { clientId: 'c1', instanceId: 'c1-1' })
    expect(runtime.state.list.at(-1)).toBeNull()
  })
})
