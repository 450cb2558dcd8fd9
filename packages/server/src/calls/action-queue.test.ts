import { ErrorCode, IpcStateError } from '@ipc-state/protocol'
import { describe, expect, it } from 'vitest'
import { ActionQueue } from './action-queue.js'

/** A queue that logs what it ran and what it rejected, in order. */
function loggingQueue() {
  const log: string[] = []
  const queue = new ActionQueue<string>({
    run: (job, input) => log.push(`run ${job} ${String(input)}`),
    reject: (job, error) => log.push(`reject ${job} ${error.code}`),
  })
  return { log, queue }
}

/** A promise and the functions that settle it. */
function deferred<T>() {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

describe('ActionQueue', () => {
  it('runs a ready job at once when idle, before push returns', () => {
    const { log, queue } = loggingQueue()
    queue.push('a', 1)
    expect(log).toEqual(['run a 1'])
    expect(queue.running).toBe(false)
  })

  it('holds every later job behind one whose input is still being checked, whatever finishes first', async () => {
    const { log, queue } = loggingQueue()
    const first = deferred<unknown>()
    const third = deferred<unknown>()
    queue.push('a', first.promise)
    queue.push('b', 2)
    queue.push('c', third.promise)
    expect(queue.running).toBe(true)
    expect(queue.size).toBe(2)
    third.resolve(3)
    await Promise.resolve()
    expect(log).toEqual([])
    first.resolve(1)
    await queue.whenIdle()
    expect(log).toEqual(['run a 1', 'run b 2', 'run c 3'])
  })

  it('rejects a job whose check failed in its own turn, as an IpcStateError', async () => {
    const { log, queue } = loggingQueue()
    const check = deferred<unknown>()
    queue.push('a', check.promise)
    queue.push('b', 2)
    check.reject(new IpcStateError(ErrorCode.BAD_ARGUMENTS, 'no'))
    await queue.whenIdle()
    expect(log).toEqual(['reject a BAD_ARGUMENTS', 'run b 2'])
  })

  it('resolves whenIdle at once when nothing runs, and for every waiter once the queue drains', async () => {
    const { log, queue } = loggingQueue()
    await queue.whenIdle()
    const check = deferred<unknown>()
    queue.push('a', check.promise)
    const waiters = [queue.whenIdle(), queue.whenIdle()]
    check.resolve('x')
    await Promise.all(waiters)
    expect(log).toEqual(['run a x'])
    expect(queue.running).toBe(false)
  })
})
