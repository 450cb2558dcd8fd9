import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { Deadlines } from './deadlines.js'

/** The one timer set, as setTimeout returned it (fake timers give Node's ref, unref and hasRef). */
let timers: { hasRef(): boolean }[] = []
const armedTimer = () => timers.at(-1)

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] })
  timers = []
  const fake = globalThis.setTimeout
  vi.spyOn(globalThis, 'setTimeout').mockImplementation(((...args: Parameters<typeof setTimeout>) => {
    const timer = fake(...args)
    timers.push(timer as unknown as { hasRef(): boolean })
    return timer
  }) as typeof setTimeout)
})
afterEach(() => {
  vi.restoreAllMocks()
  vi.useRealTimers()
})

describe('Deadlines', () => {
  it('expires each entry at its deadline, in deadline order, behind a single timer', () => {
    const deadlines = new Deadlines()
    const expired: string[] = []
    const at = (name: string, ms: number) => ({ deadline: performance.now() + ms, expire: () => expired.push(name) })
    deadlines.add(at('late', 300))
    deadlines.add(at('early', 100))
    deadlines.add(at('middle', 200))
    expect(vi.getTimerCount()).toBe(1)
    vi.advanceTimersByTime(99)
    expect(expired).toEqual([])
    vi.advanceTimersByTime(1)
    expect(expired).toEqual(['early'])
    vi.advanceTimersByTime(200)
    expect(expired).toEqual(['early', 'middle', 'late'])
    expect(vi.getTimerCount()).toBe(0)
    expect(deadlines.size).toBe(0)
  })

  it('never expires an entry deleted before its deadline, and its idle timer keeps no process alive and stops when it fires', () => {
    const deadlines = new Deadlines()
    const expire = vi.fn()
    const entry = { deadline: performance.now() + 100, expire }
    deadlines.add(entry)
    const held = () => (vi.getTimerCount() === 1 ? armedTimer() : undefined)
    expect(held()?.hasRef()).toBe(true)
    deadlines.delete(entry)
    expect(held()?.hasRef()).toBe(false)
    // The next entry, due later, takes the armed timer back.
    const next = { deadline: performance.now() + 150, expire }
    deadlines.add(next)
    expect(held()?.hasRef()).toBe(true)
    deadlines.delete(next)
    vi.advanceTimersByTime(1_000)
    expect(expire).not.toHaveBeenCalled()
    expect(vi.getTimerCount()).toBe(0)
  })

  it('ignores an infinite deadline, and lets an expiry add another', () => {
    const deadlines = new Deadlines()
    deadlines.add({ deadline: Number.POSITIVE_INFINITY, expire: () => expect.unreachable() })
    expect(vi.getTimerCount()).toBe(0)
    const expired: number[] = []
    deadlines.add({
      deadline: performance.now() + 10,
      expire: () => {
        expired.push(1)
        deadlines.add({ deadline: performance.now() + 10, expire: () => expired.push(2) })
      },
    })
    vi.advanceTimersByTime(20)
    expect(expired).toEqual([1, 2])
  })
})
