// The errors a request fails with when no answer settles it, each saying where the wait stood.
import { ErrorCode, IpcStateError } from '@ipc-state/protocol'
import type { ClientStatus } from '../client-status.js'

/** Where a request stood when it timed out. */
export interface TimeoutContext {
  /** The server's name, as the client's `path`. */
  path: string
  /** The request's timeout, in milliseconds. */
  timeout: number
  status: ClientStatus
  /** The last connection error, the `cause` while not connected. */
  lastFailure: Error | undefined
  /** The version the server applied the call at, when it answered and only the replica was awaited. */
  appliedAt: number | undefined
}

/** `TIMEOUT`, saying where the wait stood, so a timeout during an outage reads as one. */
export function timeoutError({ path, timeout, status, lastFailure, appliedAt }: TimeoutContext): IpcStateError {
  const data = { timeout, status, ...(appliedAt === undefined ? {} : { version: appliedAt }) }
  if (appliedAt !== undefined) {
    return new IpcStateError(
      ErrorCode.TIMEOUT,
      `${path} applied the call at version ${appliedAt}, but the replica did not show it within ${timeout} ms (option timeout)`,
      { data },
    )
  }
  const where =
    status === 'connected'
      ? 'while connected'
      : `while ${status}${lastFailure === undefined ? '' : `; last connection error: ${lastFailure.message}`}`
  return new IpcStateError(ErrorCode.TIMEOUT, `No answer from ${path} within ${timeout} ms (option timeout), ${where}`, {
    data,
    ...(status !== 'connected' && lastFailure !== undefined ? { cause: lastFailure } : {}),
  })
}

/** `OUTCOME_UNKNOWN` for action call `id`, written to a server run that another has replaced. */
export function newRunError(path: string, id: number): IpcStateError {
  return new IpcStateError(
    ErrorCode.OUTCOME_UNKNOWN,
    `${path} is a new server run (a new store) that holds no record of this call: it may or may not have been applied before the restart, and was not sent again`,
    { data: { id, reason: 'new-run' } },
  )
}

/** `BAD_REQUEST` for a request whose answer did not decode. */
export function unreadableAnswer(path: string, error: IpcStateError): IpcStateError {
  return new IpcStateError(ErrorCode.BAD_REQUEST, `The answer from ${path} does not decode: ${error.message}`)
}
