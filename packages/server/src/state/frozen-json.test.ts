import { defineStore } from '@ipc-state/protocol'
import { describe, expect, it } from 'vitest'
import { freezeJson } from './frozen-json.js'
import { StoreRuntime } from './store-runtime.js'

const store = defineStore({ initialState: { n: 0 as number | null, list: [] as unknown[] }, actions: {} })

describe('freezeJson', () => {
  it('freezes a parsed state all through, and says so', () => {
    const state = JSON.parse('{"n":1,"list":[{"a":[2,{"b":"c"}]},null],"__proto__":{"x":1}}')
    expect(freezeJson(state)).toBe(true)
    const nodes = [state, state.list, state.list[0], state.list[0].a[1], Object.getOwnPropertyDescriptor(state, '__proto__')!.value]
    expect(nodes.map((node) => Object.isFrozen(node))).toEqual([true, true, true, true, true])
  })

  it('says no for a number JSON has no text for, however deep', () => {
    expect(freezeJson(JSON.parse('{"n":1,"list":[[{"a":1e400}]]}'))).toBe(false)
    expect(freezeJson(JSON.parse('{"n":-1e400,"list":[]}'))).toBe(false)
  })
})

describe('StoreRuntime.restore', () => {
  it('takes a state whose size it was given as it is, and one that holds Infinity normalised, as a replica would see it', () => {
    const runtime = new StoreRuntime(store)
    const plain = JSON.parse('{"n":5,"list":[1]}')
    runtime.restore(plain, 3, 'e', 100)
    expect(runtime.served.state).toBe(plain)
    const huge = JSON.parse('{"n":1e400,"list":[1e999]}')
    runtime.restore(huge, 4, 'e', 100)
    expect(runtime.served.state).toEqual({ n: null, list: [null] })
  })
})
