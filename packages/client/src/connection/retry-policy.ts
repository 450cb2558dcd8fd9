// When a client tries a connection again, and when it gives up.
import { ErrorCode, IpcStateError } from '@ipc-state/protocol'
import type { ClientOptions } from '../client-options.js'

/** The options a {@link RetryPolicy} follows. */
export type RetryPolicyOptions = Pick<ClientOptions, 'path' | 'connectAttempts' | 'reconnectAttempts' | 'retryDelay'>

/**
 * When to try a connection again, and when to give up: failed attempts are counted per phase
 * (connecting, or reconnecting after a loss) against that phase's limit.
 */
export class RetryPolicy {
  readonly #options: RetryPolicyOptions
  /** Failed attempts in the current phase. */
  #failures = 0

  constructor(options: RetryPolicyOptions) {
    this.#options = options
  }

  /** A handshake succeeded: the next failure starts a new phase. */
  succeeded(): void {
    this.#failures = 0
  }

  /**
   * An established connection was lost. Returns the error to close with when reconnecting is off;
   * otherwise reconnecting starts.
   */
  lost(lastFailure: Error | undefined): IpcStateError | undefined {
    if (this.#options.reconnectAttempts === 0) {
      return new IpcStateError(ErrorCode.CONNECTION_CLOSED, `The connection to ${this.#options.path} closed`, {
        cause: lastFailure,
      })
    }
    this.#failures = 0
    return undefined
  }

  /**
   * Counts a failed attempt. Returns the error to give up with once the phase's attempts are
   * spent, naming the option that limits them and the last connection error.
   */
  failed(connecting: boolean, lastFailure: Error | undefined): IpcStateError | undefined {
    const { path, connectAttempts, reconnectAttempts } = this.#options
    const failures = ++this.#failures
    if (failures < (connecting ? connectAttempts : reconnectAttempts)) return undefined
    const reason = lastFailure === undefined ? '' : `: ${lastFailure.message}`
    return connecting
      ? new IpcStateError(
          ErrorCode.SERVER_UNAVAILABLE,
          `No server answered at ${path} after ${failures} attempts (option connectAttempts)${reason}`,
          { cause: lastFailure },
        )
      : new IpcStateError(
          ErrorCode.CONNECTION_CLOSED,
          `Lost the connection to ${path} and ${failures} attempts to restore it failed (option reconnectAttempts)${reason}`,
          { cause: lastFailure },
        )
  }

  /**
   * The wait before the next attempt. Retries are numbered from 0 in each phase: connecting retries
   * after its first failure, reconnecting right after the loss. A server that said it is closing is
   * being replaced: the first retry then goes at once.
   */
  delay(connecting: boolean, serverClosing: boolean): number {
    const retry = connecting ? this.#failures - 1 : this.#failures
    return serverClosing && retry === 0 ? 0 : Math.max(0, this.#options.retryDelay(retry))
  }
}
