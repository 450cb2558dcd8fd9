// The error a wait ends with when the caller's signal fires.
import { ErrorCode, IpcStateError, type AbortSignalLike } from '@ipc-state/protocol'

/** The error a wait ends with when the caller's signal fires, carrying the signal's reason. */
export const abortError = (signal: AbortSignalLike): IpcStateError =>
  new IpcStateError(ErrorCode.ABORTED, 'The operation was aborted', { cause: signal.reason })
