import { describe, expect, it } from 'vitest'
import { ErrorCode, IpcStateError } from '@ipc-state/protocol'
import { replayLog } from './replay-log.js'
import type { StorageEntry, StoredLog } from './storage.js'

const options = { answersKept: 2, storeVersion: 2, initialState: { count: 0, items: [] as string[] } }

/** A change to `version` that sets the counter to `value`. */
type Change = Extract<StorageEntry, { kind: 'change' }>
const change = (version: number, value: unknown, more: Partial<Change> = {}): Change => ({
  kind: 'change',
  version,
  patchesJson: JSON.stringify([{ op: 'replace', path: ['count'], value }]),
  instanceId: 'i',
  id: version,
  valueJson: JSON.stringify(value),
  ...more,
})

/** A log at version 0 of store version `storeVersion`, with `entries`; damage named by where it is. */
const log = (entries: StorageEntry[], storeVersion = 2, state: unknown = { count: 0, items: [] }): StoredLog => ({
  epoch: 'e',
  storeVersion,
  version: 0,
  state,
  instances: [],
  entries,
  damaged: (at, what) => new IpcStateError(ErrorCode.STORE_DAMAGED, what, { data: { at } }),
})

function refusal(run: () => unknown): IpcStateError {
  try {
    run()
  } catch (error) {
    if (error instanceof IpcStateError) return error
    throw error
  }
  throw new Error('it was not refused')
}

describe('replayLog', () => {
  it('applies each change, keeps the last answersKept answers of each instance as values, and notes the older forgotten', () => {
    const store = replayLog(
      log([{ kind: 'instance', instanceId: 'i', since: 0 }, change(1, 1), change(2, 2), change(3, 3, { valueJson: undefined })]),
      options,
    )
    expect(store).toMatchObject({ state: { count: 3 }, version: 3, storeVersion: 2 })
    expect(store.instances).toEqual([
      {
        instanceId: 'i',
        since: 0,
        forgotten: 1,
        answers: [
          { id: 2, version: 2, valueJson: '2' },
          { id: 3, version: 3 },
        ],
      },
    ])
  })

  it('refuses a gap in the versions, a change that does not fit, and one that leaves the store unlike its shape, where the log says', () => {
    expect(refusal(() => replayLog(log([change(1, 1), change(3, 3)]), options)).data).toEqual({ at: 1 })
    const misfit = { ...change(1, 1), patchesJson: '[{"op":"remove","path":["nothing","here"]}]' }
    expect(refusal(() => replayLog(log([misfit]), options)).message).toMatch(/does not fit the state/)
    const shape = refusal(() => replayLog(log([change(1, 1), change(2, 'two')]), options))
    expect(shape.data).toEqual({ at: 1 })
    expect(shape.message).toMatch(/unlike the store's/)
    expect(refusal(() => replayLog(log([], 2, { count: 'x' }), options)).data).toEqual({ at: 'snapshot' })
  })

  it('checks the shape only from the store version the server runs: a migration in the log moves it on', () => {
    // Store version 1 kept the counter as a string; the migration in the log makes it a number.
    const migration: StorageEntry = {
      ...change(2, 0),
      patchesJson: '[{"op":"replace","path":[],"value":{"count":5,"items":[]}}]',
      instanceId: '',
      id: 0,
      storeVersion: 2,
    }
    const store = replayLog(log([change(1, 'one'), migration, change(3, 6)], 1, { count: 'zero', items: [] }), options)
    expect(store).toMatchObject({ state: { count: 6, items: [] }, version: 3, storeVersion: 2 })
    expect(store.instances.map((instance) => instance.instanceId)).toEqual(['i'])
    expect(refusal(() => replayLog(log([change(1, 1, { storeVersion: 3 })]), options)).code).toBe(ErrorCode.STORE_TOO_NEW)
  })

  it('names no place for a storage that gives none', () => {
    const { damaged: _, ...plain } = log([change(2, 2)])
    const error = refusal(() => replayLog(plain, options))
    expect(error.code).toBe(ErrorCode.STORE_DAMAGED)
    expect(error.data).toEqual({ entry: 0 })
  })

  it('refuses a patch that adds or replaces without a value, which would leave a hole, at its entry', () => {
    const hole = change(1, 1, { patchesJson: '[{"op":"add","path":["items",0]}]' })
    const error = refusal(() => replayLog(log([hole]), options))
    expect([error.code, error.data, error.message]).toEqual([
      ErrorCode.STORE_DAMAGED,
      { at: 0 },
      expect.stringContaining('no value'),
    ])
  })

  it('refuses a kept answer whose result is not JSON, at the change that holds it, and lets one dropped by the window go', () => {
    const answers = [change(1, 1, { valueJson: '{' }), change(2, 2), change(3, 3)]
    expect(replayLog(log(answers), options).version).toBe(3)
    const kept = [change(1, 1), change(2, 2, { valueJson: 'undefined' }), change(3, 3)]
    const error = refusal(() => replayLog(log(kept), options))
    expect([error.code, error.data, error.message]).toEqual([
      ErrorCode.STORE_DAMAGED,
      { at: 1 },
      expect.stringContaining('not JSON'),
    ])
  })

  it("says at least the state's bytes when the log said its snapshot's, adding each change's patches", () => {
    const store = replayLog({ ...log([change(1, 12)]), stateBytes: 23 }, options)
    expect(store.stateBytes).toBe(23 + change(1, 12).patchesJson.length)
    expect(JSON.stringify(store.state).length).toBeLessThanOrEqual(store.stateBytes!)
    expect(replayLog(log([change(1, 12)]), options).stateBytes).toBeUndefined()
  })
})
