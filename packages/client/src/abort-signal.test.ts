import type { AbortSignalLike } from '@ipc-state/protocol'
import { describe, expect, it } from 'vitest'

describe('AbortSignalLike', () => {
  it("is what Node's AbortSignal is, from a controller and from AbortSignal.timeout()", () => {
    const controller = new AbortController()
    // Assignments that fail to compile if the interface asks more than a real AbortSignal gives.
    const signal: AbortSignalLike = controller.signal
    const timed: AbortSignalLike = AbortSignal.timeout(60_000)
    const fired: unknown[] = []
    signal.addEventListener('abort', () => fired.push(signal.reason), { once: true })
    controller.abort('stop')
    expect([signal.aborted, fired, timed.aborted]).toEqual([true, ['stop'], false])
  })
})
