import { applyPatches, defineStore, ErrorCode, type IpcStateError } from '@ipc-state/protocol'
import { describe, expect, it, vi } from 'vitest'
import { z } from 'zod'
import { StoreRuntime } from './store-runtime.js'

const store = defineStore({
  initialState: { counter: 0, items: [] as { id: number; text: string }[] },
  actions: {
    increment(state, by: number = 1) {
      state.counter += by
      return state.counter
    },
    add(state, text: string) {
      state.items.push({ id: state.items.length + 1, text })
      return state.items[state.items.length - 1]
    },
    trim(state, keep: number) {
      state.items.length = keep
    },
    fail(state) {
      state.counter = 999
      throw new Error('no luck')
    },
    later(state) {
      state.counter += 1
      return Promise.resolve(1)
    },
    bigint(state) {
      state.counter += 1
      return 1n
    },
    nothing() {
      return 'unchanged'
    },
    whoami(_state, _input: undefined, context) {
      return context
    },
  },
  inputs: { add: z.string().min(1) },
})

const failure = (run: () => unknown): IpcStateError => {
  try {
    run()
  } catch (error) {
    return error as IpcStateError
  }
  throw new Error('expected a throw')
}

describe('StoreRuntime', () => {
  it('applies an action, bumps the version and returns its result and patches', () => {
    const runtime = new StoreRuntime(store)
    const applied = runtime.apply('increment', 2, { clientId: 'c1', instanceId: 'c1-1' })
    expect(applied.version).toBe(1)
    expect(applied.valueJson).toBe('2')
    expect(applied.patches).toEqual([{ op: 'replace', path: ['counter'], value: 2 }])
    expect(JSON.parse(applied.patchesJson)).toEqual(applied.patches)
    expect(runtime.state.counter).toBe(2)
  })

  it('never mutates the previous state, so patches replay it exactly', () => {
    const runtime = new StoreRuntime(store)
    runtime.apply('add', 'a', { clientId: 'c1', instanceId: 'c1-1' })
    const before = runtime.state
    const snapshot = JSON.parse(JSON.stringify(before))
    const applied = runtime.apply('add', 'b', { clientId: 'c1', instanceId: 'c1-1' })
    expect(before).toEqual(snapshot)
    expect(applyPatches(snapshot, applied.patches)).toEqual(runtime.state)
  })

  it('emits patches a replica can apply for array truncation', () => {
    const runtime = new StoreRuntime(store)
    for (const text of ['a', 'b', 'c']) runtime.apply('add', text, { clientId: 'c1', instanceId: 'c1-1' })
    const replica = JSON.parse(JSON.stringify(runtime.state))
    const applied = runtime.apply('trim', 1, { clientId: 'c1', instanceId: 'c1-1' })
    expect(applyPatches(replica, applied.patches)).toEqual(runtime.state)
    expect(runtime.state.items).toHaveLength(1)
  })

  it('encodes a result that holds part of the draft', () => {
    const runtime = new StoreRuntime(store)
    const applied = runtime.apply('add', 'x', { clientId: 'c1', instanceId: 'c1-1' })
    expect(JSON.parse(applied.valueJson!)).toEqual({ id: 1, text: 'x' })
  })

  it('leaves state and version untouched when the action throws', () => {
    const runtime = new StoreRuntime(store)
    runtime.apply('increment', 1, { clientId: 'c1', instanceId: 'c1-1' })
    const before = runtime.state
    const error = failure(() => runtime.apply('fail', undefined, { clientId: 'c1', instanceId: 'c1-1' }))
    expect(error.code).toBe(ErrorCode.ACTION_FAILED)
    expect(error.message).toContain('no luck')
    expect(runtime.state).toBe(before)
    expect(runtime.version).toBe(1)
  })

  it('refuses asynchronous actions and results that are not JSON, committing nothing', () => {
    const runtime = new StoreRuntime(store)
    expect(failure(() => runtime.apply('later', undefined, { clientId: 'c1', instanceId: 'c1-1' })).code).toBe(
      ErrorCode.ACTION_FAILED,
    )
    expect(failure(() => runtime.apply('bigint', undefined, { clientId: 'c1', instanceId: 'c1-1' })).code).toBe(
      ErrorCode.ACTION_FAILED,
    )
    expect(runtime.version).toBe(0)
    expect(runtime.state.counter).toBe(0)
  })

  it('does not make a version for an action that changed nothing', () => {
    const runtime = new StoreRuntime(store)
    const applied = runtime.apply('nothing', undefined, { clientId: 'c1', instanceId: 'c1-1' })
    expect(applied).toMatchObject({ version: 0, patches: [], valueJson: '"unchanged"' })
  })

  it("gives actions the caller, its instance, the version they run at and the server's clock", () => {
    vi.useFakeTimers({ now: 1_700_000_000_000, toFake: ['Date'] })
    try {
      const runtime = new StoreRuntime(store)
      runtime.apply('increment', 1, { clientId: 'c1', instanceId: 'c1-1' })
      vi.advanceTimersByTime(250)
      expect(JSON.parse(runtime.apply('whoami', undefined, { clientId: 'c2', instanceId: 'c2-a' }).valueJson!)).toEqual({
        clientId: 'c2',
        instanceId: 'c2-a',
        version: 1,
        now: 1_700_000_000_250,
      })
    } finally {
      vi.useRealTimers()
    }
  })

  it('checks input against the schema and says what was wrong', () => {
    const runtime = new StoreRuntime(store)
    expect(runtime.checkInput('add', 'ok')).toBe('ok')
    const error = failure(() => runtime.checkInput('add', 42))
    expect(error.code).toBe(ErrorCode.BAD_ARGUMENTS)
    expect(error.message).toMatch(/add.*string/i)
    expect(error.data).toMatchObject({ issues: [expect.objectContaining({ message: expect.any(String) })] })
  })

  it('knows only its own actions, not inherited names', () => {
    const runtime = new StoreRuntime(store)
    for (const name of ['toString', '__proto__', 'constructor', 'missing']) {
      expect(failure(() => runtime.checkInput(name, undefined)).code).toBe(ErrorCode.UNKNOWN_ACTION)
      expect(failure(() => runtime.apply(name, undefined, { clientId: 'c1', instanceId: 'c1-1' })).code).toBe(
        ErrorCode.UNKNOWN_ACTION,
      )
    }
  })

  it('starts each run with a new epoch from a copy of the initial state', () => {
    const a = new StoreRuntime(store)
    const b = new StoreRuntime(store)
    expect(a.epoch).not.toBe(b.epoch)
    a.apply('add', 'x', { clientId: 'c1', instanceId: 'c1-1' })
    expect(store.initialState.items).toHaveLength(0)
  })

  describe('values JSON changes or cannot hold', () => {
    const loose = defineStore({
      initialState: { d: 1 as unknown, list: [1] as unknown[] },
      actions: {
        write(state, which: string) {
          if (which === 'undefined') state.d = undefined
          if (which === 'date') state.d = new Date(0)
          if (which === 'nan') state.list.push(Number.NaN, -0)
          if (which === 'sparse') state.list[3] = 4
          if (which === 'bigint') state.d = { deep: [1n] }
          if (which === 'new-undefined') (state as Record<string, unknown>).e = undefined
        },
      },
    })

    it.each([
      ['undefined removes the key', 'undefined', { list: [1] }],
      ['a Date is its ISO string', 'date', { d: '1970-01-01T00:00:00.000Z', list: [1] }],
      ['NaN and -0 are null and 0', 'nan', { d: 1, list: [1, null, 0] }],
      ['holes are null', 'sparse', { d: 1, list: [1, null, null, 4] }],
    ])('%s, on the server and in the patches alike', (_label, which, expected) => {
      const runtime = new StoreRuntime(loose)
      const before = runtime.state
      const applied = runtime.apply('write', which, { clientId: 'c1', instanceId: 'c1-1' })
      expect(runtime.state).toStrictEqual(expected)
      expect(applyPatches(before, JSON.parse(applied.patchesJson))).toStrictEqual(runtime.state)
      expect(applied.version).toBe(1)
    })

    it('makes no version for a write that JSON leaves out', () => {
      const runtime = new StoreRuntime(loose)
      const applied = runtime.apply('write', 'new-undefined', { clientId: 'c1', instanceId: 'c1-1' })
      expect(applied).toMatchObject({ version: 0, patchesJson: '[]' })
      expect(runtime.version).toBe(0)
    })

    it('refuses a BigInt with ACTION_FAILED naming the path, committing nothing', () => {
      const runtime = new StoreRuntime(loose)
      const error = failure(() => runtime.apply('write', 'bigint', { clientId: 'c1', instanceId: 'c1-1' }))
      expect(error.code).toBe(ErrorCode.ACTION_FAILED)
      expect(error.message).toContain('/d')
      expect(error.message).toContain('BigInt')
      expect(runtime.state).toStrictEqual({ d: 1, list: [1] })
      expect(runtime.version).toBe(0)
    })
  })

  it('runs actions named like Object.prototype members, with or without a schema', () => {
    type Calls = { calls: string[] }
    const odd = defineStore({
      initialState: { calls: [] } as Calls,
      actions: {
        toString(state: Calls) {
          state.calls.push('toString')
        },
        constructor(state: Calls, by: number) {
          state.calls.push(`constructor ${by}`)
        },
        valueOf(state: Calls) {
          state.calls.push('valueOf')
        },
      },
      // TypeScript checks the literal's inherited toString and valueOf against the optional schema slots: a cast.
      inputs: { constructor: z.number() } as never,
    })
    const runtime = new StoreRuntime(odd)
    for (const [name, input] of [
      ['toString', undefined],
      ['constructor', 2],
      ['valueOf', undefined],
    ] as const) {
      runtime.apply(name, runtime.checkInput(name, input), { clientId: 'c1', instanceId: 'c1-1' })
    }
    expect(runtime.state.calls).toEqual(['toString', 'constructor 2', 'valueOf'])
    expect(failure(() => runtime.checkInput('constructor', 'x')).code).toBe(ErrorCode.BAD_ARGUMENTS)
  })

  it('answers a huge bad input with a bounded list of issues', () => {
    const strings = defineStore({
      initialState: {},
      actions: { take(_state, _list: string[]) {} },
      inputs: { take: z.array(z.string()) },
    })
    const runtime = new StoreRuntime(strings, { maxInputValues: Number.POSITIVE_INFINITY })
    const error = failure(() =>
      runtime.checkInput(
        'take',
        Array.from({ length: 100_000 }, (_, i) => i),
      ),
    )
    expect(error.code).toBe(ErrorCode.BAD_ARGUMENTS)
    const data = error.data as { issues: unknown[]; more: number }
    expect(data.issues).toHaveLength(20)
    expect(data.more).toBe(100_000 - 20)
    expect(error.message).toContain('(and 99980 more issues)')
    expect(JSON.stringify(error.toWire()).length).toBeLessThan(20_000)
  })

  it('refuses an input with more than maxInputValues values before its schema sees it', () => {
    let checked = 0
    const counted = defineStore({
      initialState: {},
      actions: { take(_state, _input: unknown) {} },
      inputs: {
        take: {
          '~standard': {
            version: 1,
            vendor: 'test',
            validate: (value: unknown) => {
              checked += 1
              return { value }
            },
          },
        },
      },
    })
    const runtime = new StoreRuntime(counted, { maxInputValues: 10 })
    // The array and its nine numbers: ten values. Nested containers count as values too.
    expect(
      runtime.checkInput(
        'take',
        Array.from({ length: 9 }, (_, i) => i),
      ),
    ).toHaveLength(9)
    expect(runtime.checkInput('take', { a: [1, 2], b: { c: 'x' } })).toEqual({ a: [1, 2], b: { c: 'x' } })
    const error = failure(() =>
      runtime.checkInput('take', [
        [1, 2, 3],
        [4, 5, 6],
        [7, 8],
      ]),
    )
    expect(error).toMatchObject({
      code: ErrorCode.BAD_ARGUMENTS,
      message: 'Invalid input for action "take": it holds more than 10 values (option maxInputValues)',
      data: { limit: 10 },
    })
    expect(checked).toBe(2)
  })
})
