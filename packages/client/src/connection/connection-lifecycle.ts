// One client's connection over its whole life: attempts, handshake, retries, status, and why it closed.
import { ErrorCode, IpcStateError, isIpcStateError } from '@ipc-state/protocol'
import { errorFromWire, type ResponseMessage } from '@ipc-state/protocol/wire'
import { abortError } from '../calls/abort-error.js'
import { sendFrame } from '../calls/call-frames.js'
import type { ClientOptions } from '../client-options.js'
import { ClientStatusTracker, type ClientStatus } from '../client-status.js'
import type { ClientConnection, ClientConnectionHandlers } from '../transport/client-transport.js'
import { BYE_FRAME, helloFrame, readHelloAnswer } from './handshake.js'
import type { LifecycleCalls } from './lifecycle-calls.js'
import { ReplicaSync, type SyncedReplica } from './replica-sync.js'
import { RetryPolicy } from './retry-policy.js'
import type { ServerAddresses } from './server-addresses.js'
import { ServerReader } from './server-reader.js'

/** What a {@link ConnectionLifecycle} is made of. */
export interface ConnectionLifecycleOptions {
  readonly options: ClientOptions
  /** Opens each connection attempt, to the next server in turn. */
  readonly addresses: ServerAddresses
  /** The replica to fill and keep current; absent for a client with `replica: false`. */
  readonly replica: SyncedReplica | undefined
  readonly calls: LifecycleCalls
}

/**
 * One client's connection over its whole life: the attempts and their handshake (with its
 * timeout), retries (a {@link RetryPolicy}) while connecting and after a loss, status changes, and
 * the reason it closes. What the server sends is read by a {@link ServerReader} per connection;
 * the replica is kept current by a {@link ReplicaSync}; the calls go through {@link LifecycleCalls}.
 */
export class ConnectionLifecycle {
  readonly #options: ClientOptions
  readonly #addresses: ServerAddresses
  readonly #replica: SyncedReplica | undefined
  readonly #sync: ReplicaSync
  readonly #calls: LifecycleCalls
  readonly #status: ClientStatusTracker
  readonly #retries: RetryPolicy
  #connection: ClientConnection | undefined
  #helloId = -1
  #epoch = ''
  /**
   * The frame limit a server of epoch `epoch` reported when it refused a frame as too large: what
   * a server too old to say its limit in the hello still tells.
   */
  #refusedAt: { epoch: string; limit: number } | undefined
  #retryTimer: ReturnType<typeof setTimeout> | undefined
  #helloTimer: ReturnType<typeof setTimeout> | undefined
  #serverClosing = false
  #lastFailure: Error | undefined
  #settleConnect: { resolve(): void; reject(error: IpcStateError): void } | undefined
  readonly #onAbort = () => this.close(abortError(this.#options.signal!))

  constructor({ options, addresses, replica, calls }: ConnectionLifecycleOptions) {
    this.#options = options
    this.#addresses = addresses
    this.#replica = replica
    this.#sync = new ReplicaSync({ replica, path: options.path, logger: options.logger, nextId: () => calls.nextId() })
    this.#calls = calls
    this.#status = new ClientStatusTracker(options.logger, options.path)
    this.#retries = new RetryPolicy(options)
  }

  get status(): ClientStatus {
    return this.#status.current
  }

  /** The id of the server run of the last handshake. */
  get epoch(): string {
    return this.#epoch
  }

  /** Why the last attempt or connection failed, until a handshake succeeds. */
  get lastFailure(): Error | undefined {
    return this.#lastFailure
  }

  /** Runs `listener` whenever `status` changes. Returns a function that unregisters it. */
  onStatusChange(listener: (status: ClientStatus) => void): () => void {
    return this.#status.listen(listener)
  }

  /** Makes the first attempt; resolves after the first handshake, or rejects when connecting fails. */
  start(): Promise<void> {
    const connected = new Promise<void>((resolve, reject) => {
      this.#settleConnect = { resolve, reject }
    })
    this.#options.signal?.addEventListener('abort', this.#onAbort, { once: true })
    this.#open()
    return connected
  }

  // A method, not a comparison: listeners called in between may have changed the status, which
  // TypeScript's narrowing cannot see.
  #isClosed(): boolean {
    return this.#status.current === 'closed'
  }

  #open(): void {
    this.#retryTimer = undefined
    if (this.#isClosed()) return
    const { timeout, maxFrameBytes, logger } = this.#options
    this.#serverClosing = false
    const isCurrent = () => this.#connection === current
    const reader = new ServerReader(maxFrameBytes, {
      response: (response) => this.#onResponse(response),
      change: (change) => {
        this.#sync.change(change, this.#sender())
        // The calls it shows settle now, or after a gap once the resync brings their version.
        for (const response of change.answers ?? []) this.#onResponse(response)
      },
      closing: (reason) => {
        this.#serverClosing = true
        logger.info?.('the server is closing', { reason })
      },
      protocolError: ({ error, fatal }) => {
        this.#lastFailure = errorFromWire(error)
        this.#learnLimit(this.#lastFailure as IpcStateError)
        logger.warn?.('the server reported an error', { ...error, fatal })
      },
      malformed: (error, id) => this.#onMalformed(error, id),
      broken: (error) => {
        logger.error?.('the server sent a frame that is too large or malformed; reconnecting', { error: String(error) })
        this.#lastFailure = error
        this.#connection?.close()
      },
      current: () => this.#connection !== undefined,
    })
    const handlers: ClientConnectionHandlers = {
      open: () => {
        this.#helloId = this.#calls.nextId()
        // A server that accepts but never answers the handshake counts as a failed attempt.
        if (timeout !== Number.POSITIVE_INFINITY) {
          this.#helloTimer = setTimeout(() => {
            this.#lastFailure = new IpcStateError(
              ErrorCode.TIMEOUT,
              `No handshake from ${this.#addresses.current} within ${timeout} ms (option timeout)`,
            )
            current.close()
          }, timeout)
        }
        current.write(helloFrame(this.#options, this.#helloId))
      },
      data: (chunk) => {
        if (isCurrent()) reader.read(chunk)
      },
      close: (error) => {
        clearTimeout(this.#helloTimer)
        if (!isCurrent()) return
        this.#connection = undefined
        this.#onClosed(error)
      },
    }
    let current: ClientConnection
    try {
      current = this.#addresses.open(handlers)
    } catch (error) {
      // A transport that throws instead of reporting close(error): the attempt failed all the
      // same, and is retried as any other, rather than thrown out of a retry timer.
      current = { write() {}, close: () => handlers.close() }
      const failure = error instanceof Error ? error : new Error(String(error))
      queueMicrotask(() => handlers.close(failure))
    }
    this.#connection = current
  }

  /** Writes to the connection, when there is one that finished its handshake. */
  #sender(): ((bytes: Uint8Array) => void) | undefined {
    const current = this.#connection
    if (current === undefined || this.#status.current !== 'connected') return undefined
    return (bytes) => current.write(bytes)
  }

  /** A frame that does not decode may have been a change (resync) or an answer (that call fails now). */
  #onMalformed(error: IpcStateError, id: number | undefined): void {
    this.#options.logger.warn?.('the server sent a frame that does not decode', { reason: error.message })
    if (id !== undefined && id === this.#helloId) {
      this.#lastFailure = error
      this.#connection?.close()
      return
    }
    if (id !== undefined) this.#calls.unreadable(id, error)
    this.#sync.resync('a frame did not decode', this.#sender())
  }

  #onResponse(response: ResponseMessage): void {
    if (response.id === this.#helloId) {
      this.#onHello(response)
      return
    }
    if (this.#sync.answers(response.id)) {
      const failure = this.#sync.answer(response)
      if (failure !== undefined) {
        this.#lastFailure = failure
        this.#connection?.close()
      }
      return
    }
    this.#calls.answer(response)
  }

  #onHello(response: ResponseMessage): void {
    this.#helloId = -1
    clearTimeout(this.#helloTimer)
    const answer = readHelloAnswer(response, this.#options)
    if (!answer.ok) {
      if (answer.fatal) this.close(answer.error)
      else {
        this.#lastFailure = answer.error
        this.#connection?.close()
      }
      return
    }
    const { hello } = answer
    const refusal = this.#addresses.refusal(hello.epoch, this.#epoch)
    if (refusal !== undefined) {
      this.#lastFailure = refusal
      this.#connection?.close()
      return
    }
    const newRun = hello.epoch !== this.#epoch
    this.#epoch = hello.epoch
    const refused = this.#refusedAt?.epoch === hello.epoch ? this.#refusedAt.limit : undefined
    this.#sync.greeted(hello)
    this.#retries.succeeded()
    this.#lastFailure = undefined
    this.#status.set('connected')
    this.#options.signal?.removeEventListener('abort', this.#onAbort)
    this.#settleConnect?.resolve()
    this.#settleConnect = undefined
    // A status listener may have closed the client, or the connection, meanwhile.
    const current = this.#connection
    if (this.#status.current !== 'connected' || current === undefined) return
    this.#calls.resume((frame) => sendFrame(current, frame), {
      newRun,
      binary: hello.binary === true,
      maxFrameBytes: hello.maxFrameBytes ?? refused,
    })
  }

  /**
   * A server too old to say its frame limit in the hello still says it in the error of a frame it
   * refused as too large: a call resent to that run is then refused here, not sent again.
   */
  #learnLimit(error: IpcStateError): void {
    if (error.code !== ErrorCode.FRAME_TOO_LARGE || this.#epoch === '') return
    const limit = (error.data as { limit?: unknown } | undefined)?.limit
    if (Number.isSafeInteger(limit) && (limit as number) > 0) this.#refusedAt = { epoch: this.#epoch, limit: limit as number }
  }

  #onClosed(error: Error | undefined): void {
    if (this.#isClosed()) return
    this.#calls.pause(this.#serverClosing)
    // Another user's socket at the path stays there, and our server cannot take it over: trying
    // again would only wait on it. The client stops, saying why.
    if (isIpcStateError(error) && error.code === ErrorCode.FOREIGN_SERVER) {
      this.close(error)
      return
    }
    if (error !== undefined) this.#lastFailure = error
    this.#helloId = -1
    this.#sync.lost()
    if (this.#status.current === 'connected') {
      const closing = this.#retries.lost(this.#lastFailure)
      if (closing !== undefined) {
        this.close(closing)
        return
      }
      this.#status.set('reconnecting')
    } else {
      const givingUp = this.#retries.failed(this.#status.current === 'connecting', this.#lastFailure)
      if (givingUp !== undefined) {
        this.close(givingUp)
        return
      }
    }
    const wait = this.#retries.delay(this.#status.current === 'connecting', this.#serverClosing)
    // A status listener or the delay function may have closed the client meanwhile.
    if (!this.#isClosed()) this.#retryTimer = setTimeout(() => this.#open(), wait)
  }

  /** Closes for good: the connection, any retry, and every waiting call, which gets `error`. */
  close(error: IpcStateError): void {
    if (this.#isClosed()) return
    // Greeted: the server hears this instance is gone for good, and need not wait for it to come back.
    if (this.#status.current === 'connected') this.#connection?.write(BYE_FRAME)
    this.#status.set('closed')
    this.#options.signal?.removeEventListener('abort', this.#onAbort)
    clearTimeout(this.#retryTimer)
    const current = this.#connection
    this.#connection = undefined
    current?.close()
    this.#settleConnect?.reject(error)
    this.#settleConnect = undefined
    this.#calls.rejectAll(error)
    this.#replica?.releaseAll()
  }
}
