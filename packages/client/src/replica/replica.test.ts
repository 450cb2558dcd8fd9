import { describe, expect, it, vi } from 'vitest'
import { Replica } from './replica.js'

type State = { counter: number; list: number[] }

const ready = () => {
  const replica = new Replica<State>({})
  replica.reset('e1', 3, { counter: 3, list: [1] })
  return replica
}

describe('Replica', () => {
  it('applies changes strictly in version order', () => {
    const replica = ready()
    expect(replica.apply('e1', 4, [{ op: 'replace', path: ['counter'], value: 4 }])).toBe('applied')
    expect(replica.apply('e1', 4, [{ op: 'replace', path: ['counter'], value: 99 }])).toBe('stale')
    expect(replica.apply('e1', 6, [{ op: 'replace', path: ['counter'], value: 6 }])).toBe('gap')
    expect(replica.state).toEqual({ counter: 4, list: [1] })
    expect(replica.version).toBe(4)
  })

  it('ignores changes of another server run and reports patches that do not fit as a gap', () => {
    const replica = ready()
    expect(replica.apply('e0', 4, [{ op: 'replace', path: ['counter'], value: 4 }])).toBe('stale')
    expect(replica.apply('e1', 4, [{ op: 'remove', path: ['missing', 'deep'] }])).toBe('gap')
    expect(replica.version).toBe(3)
  })

  it('passes who made a change to subscribers, and nothing of it on a resync', () => {
    const replica = ready()
    const infos: unknown[] = []
    replica.subscribe((_state, info) => infos.push(info))
    replica.apply('e1', 4, [{ op: 'replace', path: ['counter'], value: 4 }], { action: 'increment', clientId: 'c1' })
    replica.apply('e1', 5, [{ op: 'replace', path: ['counter'], value: 5 }])
    replica.reset('e1', 6, { counter: 6, list: [] })
    expect(infos).toStrictEqual([
      { reason: 'change', version: 4, from: 4, epoch: 'e1', action: 'increment', clientId: 'c1' },
      { reason: 'change', version: 5, from: 5, epoch: 'e1' },
      { reason: 'resync', version: 6, epoch: 'e1' },
    ])
  })

  it('applies a batch of versions whole, notifies once, and refuses one that does not start at the next version', () => {
    const replica = ready()
    const seen: { counter: number; list: readonly number[]; from?: number; version: number }[] = []
    replica.subscribe((state, info) => seen.push({ ...state, from: info.from, version: info.version }))
    const batch = [
      { op: 'replace' as const, path: ['counter'], value: 4 },
      { op: 'add' as const, path: ['list', 1], value: 2 },
      { op: 'replace' as const, path: ['counter'], value: 5 },
    ]
    expect(replica.apply('e1', 5, batch, {}, 4)).toBe('applied')
    expect(seen).toEqual([{ counter: 5, list: [1, 2], from: 4, version: 5 }])
    // Already held: nothing happens. Partly held, or past the next version: a gap.
    expect(replica.apply('e1', 5, batch, {}, 4)).toBe('stale')
    expect(replica.apply('e1', 7, [{ op: 'replace', path: ['counter'], value: 7 }], {}, 5)).toBe('gap')
    expect(replica.apply('e1', 8, [{ op: 'replace', path: ['counter'], value: 8 }], {}, 7)).toBe('gap')
    expect(replica.version).toBe(5)
    expect(seen).toHaveLength(1)
  })

  it('keeps the state frozen', () => {
    const replica = ready()
    replica.apply('e1', 4, [{ op: 'add', path: ['list', 1], value: 2 }])
    expect(Object.isFrozen(replica.state)).toBe(true)
    expect(Object.isFrozen(replica.state!.list)).toBe(true)
  })

  it('tells subscribers why the state changed, and a throwing one does not stop the rest', () => {
    const error = vi.fn()
    const replica = new Replica<State>({ error })
    const seen: string[] = []
    replica.subscribe(() => {
      throw new Error('listener bug')
    })
    const stop = replica.subscribe((state, info) => seen.push(`${info.reason}:${info.version}:${state.counter}`))
    replica.reset('e1', 1, { counter: 1, list: [] })
    replica.apply('e1', 2, [{ op: 'replace', path: ['counter'], value: 2 }])
    replica.reset('e1', 2, { counter: 2, list: [] })
    replica.reset('e2', 0, { counter: 0, list: [] })
    stop()
    replica.apply('e2', 1, [{ op: 'replace', path: ['counter'], value: 1 }])
    expect(seen).toEqual(['resync:1:1', 'change:2:2', 'reset:0:0'])
    expect(error).toHaveBeenCalled()
  })

  it('lets a caller wait for a version, or for a newer server run', async () => {
    const replica = ready()
    const order: string[] = []
    const five = replica.reached('e1', 5).then(() => order.push('five'))
    replica.apply('e1', 4, [{ op: 'replace', path: ['counter'], value: 4 }])
    await Promise.resolve()
    expect(order).toEqual([])
    replica.apply('e1', 5, [{ op: 'replace', path: ['counter'], value: 5 }])
    await five
    const other = replica.reached('e1', 10)
    replica.reset('e2', 0, { counter: 0, list: [] })
    await other
    expect(order).toEqual(['five'])
  })
})
