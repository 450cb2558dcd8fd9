// client.waitFor: a promise for the first replica state that satisfies a predicate, checked on each change.
import { type AbortSignalLike, type DeepReadonly, ErrorCode, IpcStateError } from '@ipc-state/protocol'
import { abortError } from '../calls/abort-error.js'
import type { ClientStatus } from '../client-status.js'
import { timeoutOption } from '../client-options.js'
import type { Replica } from './replica.js'

/** Options of {@link IpcStateClient.waitFor}. */
export interface WaitForOptions {
  /** Milliseconds to wait before rejecting with `TIMEOUT`; `Infinity` (the default) waits as long as the client lives. */
  timeout?: number
  /** Rejects the wait with `ABORTED` when it fires (the signal's reason as `cause`). */
  signal?: AbortSignalLike
}

/** What a wait needs of its client. */
export interface WaitSource<S> {
  replica: Replica<S>
  path: string
  status(): ClientStatus
}

/**
 * Resolves with the replica's state once `predicate` holds for it: at once if it holds now, else
 * at the first change after which it does. No polling: the predicate runs once now and once per
 * change the replica applies (a resync included).
 */
export function waitFor<S>(
  source: WaitSource<S>,
  onStatusChange: (listener: (status: ClientStatus) => void) => () => void,
  predicate: (state: DeepReadonly<S>) => boolean,
  options: WaitForOptions = {},
): Promise<DeepReadonly<S>> {
  if (typeof predicate !== 'function') return Promise.reject(new TypeError('waitFor takes a predicate function'))
  let timeout: number
  try {
    timeout = timeoutOption(options.timeout, Number.POSITIVE_INFINITY)
  } catch (error) {
    return Promise.reject(error)
  }
  const { signal } = options
  const { replica, path } = source
  if (signal?.aborted) return Promise.reject(abortError(signal))
  if (source.status() === 'closed') {
    return Promise.reject(new IpcStateError(ErrorCode.CLIENT_CLOSED, `The client of ${path} was closed`))
  }
  try {
    if (predicate(replica.state as DeepReadonly<S>)) return Promise.resolve(replica.state as DeepReadonly<S>)
  } catch (error) {
    return Promise.reject(error)
  }
  return new Promise((resolve, reject) => {
    const settle = (outcome: () => void) => {
      unsubscribe()
      unlisten()
      if (timer !== undefined) clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      outcome()
    }
    const unsubscribe = replica.subscribe((state) => {
      let holds: boolean
      try {
        holds = predicate(state)
      } catch (error) {
        settle(() => reject(error))
        return
      }
      if (holds) settle(() => resolve(state))
    })
    const unlisten = onStatusChange((status) => {
      if (status === 'closed') {
        settle(() => reject(new IpcStateError(ErrorCode.CLIENT_CLOSED, `The client of ${path} was closed`)))
      }
    })
    const onAbort = () => settle(() => reject(abortError(signal!)))
    signal?.addEventListener('abort', onAbort, { once: true })
    const timer =
      timeout === Number.POSITIVE_INFINITY
        ? undefined
        : setTimeout(
            () =>
              settle(() =>
                reject(
                  new IpcStateError(ErrorCode.TIMEOUT, `The state of ${path} did not satisfy the predicate within ${timeout} ms`),
                ),
              ),
            timeout,
          )
  })
}
