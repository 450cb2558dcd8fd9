import { applyPatches, defineStore, ErrorCode, type IpcStateError } from '@ipc-state/protocol'
import { describe, expect, it } from 'vitest'
import { StoreRuntime } from './store-runtime.js'

const failure = (run: () => unknown): IpcStateError => {
  try {
    run()
  } catch (error) {
    return error as IpcStateError
  }
  throw new Error('expected a throw')
}

describe('maxStateBytes', () => {
  const sized = defineStore({
    initialState: { list: [] as string[], n: 0 },
    actions: {
      push(state, text: string) {
        state.list.push(text)
      },
      stretch(state, length: number) {
        state.list.length = length
      },
      shift(state) {
        state.list.shift()
      },
      reverse(state) {
        state.list.reverse()
      },
      echo(_state, text: string) {
        return text
      },
      bump(state) {
        state.n += 1
      },
    },
  })
  const limit = 4_096
  const size = (value: unknown) => Buffer.byteLength(JSON.stringify(value))

  it('refuses at commit time a change that would pass it, with ACTION_FAILED, and commits nothing', () => {
    const runtime = new StoreRuntime(sized, { maxStateBytes: limit })
    let refused: IpcStateError | undefined
    for (let i = 0; i < 100 && refused === undefined; i++) {
      try {
        runtime.apply('push', 'ğ'.repeat(100), { clientId: 'c1', instanceId: 'c1-1' })
      } catch (error) {
        refused = error as IpcStateError
      }
    }
    expect(refused?.code).toBe(ErrorCode.ACTION_FAILED)
    expect(refused?.message).toMatch(
      /^Action "push" would make the state (at least )?\d+ bytes of JSON, more than the 3840 .*\(option maxStateBytes\); nothing was changed$/,
    )
    expect(refused?.data).toMatchObject({ limit: limit - 256, bytes: expect.any(Number) })
    const before = runtime.state
    expect(size(before)).toBeLessThanOrEqual(limit - 256)
    expect(failure(() => runtime.apply('push', 'x'.repeat(300), { clientId: 'c1', instanceId: 'c1-1' })).code).toBe(
      ErrorCode.ACTION_FAILED,
    )
    expect(runtime.state).toBe(before)
    // A change that fits still goes through.
    expect(runtime.apply('bump', undefined, { clientId: 'c1', instanceId: 'c1-1' }).version).toBe(runtime.version)
  })

  it('encodes the whole state only when its bound nears the limit, never on every action', () => {
    const runtime = new StoreRuntime(sized, { maxStateBytes: 64 * 1024 })
    const stringify = JSON.stringify
    let full = 0
    JSON.stringify = ((value: unknown, ...rest: []) => {
      if (typeof value === 'object' && value !== null && 'list' in value) full += 1
      return stringify(value, ...rest)
    }) as typeof JSON.stringify
    try {
      for (let i = 0; i < 200; i++) runtime.apply('bump', undefined, { clientId: 'c1', instanceId: 'c1-1' })
      expect(full).toBe(0)
      for (let i = 0; i < 1_000 && full === 0; i++) runtime.apply('push', 'y'.repeat(200), { clientId: 'c1', instanceId: 'c1-1' })
      expect(full).toBe(1)
    } finally {
      JSON.stringify = stringify
    }
    // After the exact encode the bound is exact again, plus the change that followed; never below.
    expect(runtime.stateBytesBound).toBeGreaterThanOrEqual(size(runtime.state))
    expect(runtime.stateBytesBound).toBeLessThan(size(runtime.state) + 300)
    runtime.apply('shift', undefined, { clientId: 'c1', instanceId: 'c1-1' })
    expect(runtime.stateBytesBound).toBeGreaterThanOrEqual(size(runtime.state))
  })

  it('refuses growth past it again and again without encoding the whole state each time', () => {
    const runtime = new StoreRuntime(sized, { maxStateBytes: 64 * 1024 })
    const stringify = JSON.stringify
    let full = 0
    JSON.stringify = ((value: unknown, ...rest: []) => {
      if (typeof value === 'object' && value !== null && 'list' in value) full += 1
      return stringify(value, ...rest)
    }) as typeof JSON.stringify
    try {
      let refused = 0
      for (let i = 0; i < 1_000 && refused === 0; i++) {
        try {
          runtime.apply('push', 'z'.repeat(2_000), { clientId: 'c1', instanceId: 'c1-1' })
        } catch {
          refused += 1
        }
      }
      expect(refused).toBe(1)
      const encodes = full
      for (let i = 0; i < 10; i++)
        expect(failure(() => runtime.apply('push', 'z'.repeat(2_000), { clientId: 'c1', instanceId: 'c1-1' })).message).toContain(
          'at least',
        )
      expect(full).toBe(encodes)
    } finally {
      JSON.stringify = stringify
    }
  })

  it('counts an array made longer through length as the nulls JSON will write', () => {
    const runtime = new StoreRuntime(sized, { maxStateBytes: limit })
    // 1,000 new slots: within what one write may add (MAX_NEW_HOLES), past what the limit allows.
    const error = failure(() => runtime.apply('stretch', 1_000, { clientId: 'c1', instanceId: 'c1-1' }))
    expect(error.message).toMatch(/would make the state (at least )?\d+ bytes/)
    expect((error.data as { bytes: number }).bytes).toBeGreaterThanOrEqual(4_000)
    expect(runtime.apply('stretch', 3, { clientId: 'c1', instanceId: 'c1-1' }).version).toBe(1)
    expect(runtime.state.list).toEqual([null, null, null])
  })

  it('refuses a result that passes it, and sends the whole state when the change alone would', () => {
    const runtime = new StoreRuntime(sized, { maxStateBytes: limit })
    expect(failure(() => runtime.apply('echo', 'r'.repeat(limit), { clientId: 'c1', instanceId: 'c1-1' })).message).toMatch(
      /returned a result of \d+ bytes of JSON/,
    )
    for (let i = 0; i < 150; i++) runtime.apply('push', String(i), { clientId: 'c1', instanceId: 'c1-1' })
    const before = runtime.state
    // Reversing 150 items rewrites every index: more patch bytes than the state that results.
    const applied = runtime.apply('reverse', undefined, { clientId: 'c1', instanceId: 'c1-1' })
    expect(applied.patches).toEqual([{ op: 'replace', path: [], value: runtime.state }])
    expect(applyPatches(before, JSON.parse(applied.patchesJson))).toStrictEqual(runtime.state)
  })

  it('refuses an initial state that passes it', () => {
    const big = defineStore({ initialState: { blob: 'b'.repeat(5_000) }, actions: {} })
    expect(() => new StoreRuntime(big, { maxStateBytes: limit })).toThrow(/^store.initialState is 5011 bytes of JSON/)
  })
})
