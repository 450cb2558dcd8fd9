import { describe, expect, it } from 'vitest'
import { ChangeHistory } from './change-history.js'

const patches = (value: string) => JSON.stringify([{ op: 'replace', path: ['text'], value }])

describe('ChangeHistory', () => {
  it('keeps the last historySize changes, oldest first, with their time, action, client and patches', () => {
    let clock = 1_000
    const history = new ChangeHistory({ historySize: 3, historyBytes: 1024 * 1024 }, () => clock++)
    for (let version = 1; version <= 5; version++) history.add(version, patches(`v${version}`), 'set', `client-${version}`)
    history.add(6, '[]', undefined, undefined)
    expect(history.list('e', 6)).toEqual({
      epoch: 'e',
      version: 6,
      changes: [
        { version: 4, at: 1_003, action: 'set', clientId: 'client-4', patches: [{ op: 'replace', path: ['text'], value: 'v4' }] },
        { version: 5, at: 1_004, action: 'set', clientId: 'client-5', patches: [{ op: 'replace', path: ['text'], value: 'v5' }] },
        { version: 6, at: 1_005, patches: [] },
      ],
    })
    expect(history.size).toBe(3)
  })

  it('drops the oldest changes to stay within historyBytes, and keeps a change larger than all of it without its patches', () => {
    const history = new ChangeHistory({ historySize: 100, historyBytes: 2_000 })
    for (let version = 1; version <= 20; version++) history.add(version, patches('x'.repeat(200)), 'set', 'c')
    expect(history.bytes).toBeLessThanOrEqual(2_000)
    const kept = history.list('e', 20).changes
    expect(kept.length).toBeGreaterThan(0)
    expect(kept.length).toBeLessThan(20)
    expect(kept.map((change) => change.version)).toEqual(Array.from({ length: kept.length }, (_, i) => 21 - kept.length + i))

    history.add(21, patches('y'.repeat(5_000)), 'set', 'c')
    expect(history.bytes).toBeLessThanOrEqual(2_000)
    const last = history.list('e', 21).changes.at(-1)
    expect(last).toMatchObject({ version: 21, action: 'set', clientId: 'c', patches: [], patchesOmitted: true })
  })

  it('keeps nothing with historySize 0', () => {
    const history = new ChangeHistory({ historySize: 0, historyBytes: 1024 })
    history.add(1, '[]', 'a', 'c')
    expect(history.list('e', 1).changes).toEqual([])
  })
})
