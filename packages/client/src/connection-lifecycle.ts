import {
  ClientMessageType,
  PROTOCOL_VERSION,
  ServerMessageType,
  decodeServerMessage,
  maxFrameContainers,
  encodeClientMessage,
  errorFromWire,
  type HelloResult,
  WireDecoder,
  type WireFrame,
  type ResponseMessage,
  type StateGetResult,
} from '@ipc-state/protocol/wire'
import { ErrorCode, IpcStateError, isIpcStateError } from '@ipc-state/protocol'
import { abortError } from './abort-error.js'
import type { ClientOptions } from './client-options.js'
import { ClientStatusTracker, type ClientStatus } from './client-status.js'
import type { ClientConnection, ClientTransport } from './client-transport.js'
import type { Replica } from './replica.js'
import { RetryPolicy } from './retry-policy.js'
import { helloResultProblem, snapshotProblem } from './server-results.js'

const decodeText = (bytes: Uint8Array, start: number, end: number): string => Buffer.prototype.utf8Slice.call(bytes, start, end)

/** What a connection that finished its handshake tells the queue of calls. */
export interface ResumedConnection {
  /** The server is another run than the one the calls were written to: its epoch changed. */
  newRun: boolean
  /** The server takes binary frames on this connection. */
  binary: boolean
  /** The largest frame the server reads, when it is known: a larger call is refused, not sent. */
  maxFrameBytes: number | undefined
}

/** What the lifecycle needs from the queue of calls (a `CallQueue`). */
export interface LifecycleCalls {
  /** The next request id; the hello and resync requests share the calls' id space. */
  nextId(): number
  /** A connection finished its handshake: send every unanswered call through `send`. */
  resume(send: (frame: string | Uint8Array) => void, connection: ResumedConnection): void
  /**
   * The connection is gone: send nothing until the next `resume`. `goodbye` says the server
   * announced it was closing first: it answered every call it took before that notice, so a call
   * still unanswered was not applied.
   */
  pause(goodbye: boolean): void
  /** A response to a request of the queue's. */
  answer(response: ResponseMessage): void
  /** A response to request `id` that did not decode. */
  unreadable(id: number, error: IpcStateError): void
  /** The client closed: every call fails with `error`. */
  rejectAll(error: IpcStateError): void
}

/** What the lifecycle does with the replica (a `Replica`): fill it, keep it current, let its waiters go. */
export type LifecycleReplica = Pick<Replica<unknown>, 'epoch' | 'version' | 'reset' | 'apply' | 'releaseAll'>

/** What a {@link ConnectionLifecycle} is made of. */
export interface ConnectionLifecycleOptions {
  readonly options: ClientOptions
  /** Opens each connection attempt. */
  readonly transport: ClientTransport
  /** The replica to fill and keep current; absent for a client with `replica: false`. */
  readonly replica: LifecycleReplica | undefined
  readonly calls: LifecycleCalls
}

/**
 * One client's connection over its whole life: the attempts and their handshake (with its
 * timeout), retries (a {@link RetryPolicy}) while connecting and after a loss, the replica's
 * snapshot and changes, resyncs, status changes, and the reason it closes.
 */
export class ConnectionLifecycle {
  readonly #options: ClientOptions
  readonly #transport: ClientTransport
  readonly #replica: LifecycleReplica | undefined
  readonly #calls: LifecycleCalls
  readonly #status: ClientStatusTracker
  readonly #retries: RetryPolicy
  #connection: ClientConnection | undefined
  #decoder: WireDecoder | undefined
  #helloId = -1
  #resyncId = -1
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

  constructor({ options, transport, replica, calls }: ConnectionLifecycleOptions) {
    this.#options = options
    this.#transport = transport
    this.#replica = replica
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
    const { path, timeout, clientId, instanceId, maxFrameBytes } = this.#options
    this.#decoder = new WireDecoder({ maxFrameBytes, decodeText })
    this.#serverClosing = false
    const current: ClientConnection = this.#transport(path, {
      open: () => {
        this.#helloId = this.#calls.nextId()
        // A server that accepts but never answers the handshake counts as a failed attempt.
        if (timeout !== Number.POSITIVE_INFINITY) {
          this.#helloTimer = setTimeout(() => {
            this.#lastFailure = new IpcStateError(
              ErrorCode.TIMEOUT,
              `No handshake from ${path} within ${timeout} ms (option timeout)`,
            )
            current.close()
          }, timeout)
        }
        current.write(
          encodeClientMessage({
            type: ClientMessageType.Hello,
            data: {
              id: this.#helloId,
              protocol: PROTOCOL_VERSION,
              clientId,
              instanceId,
              replica: this.#options.replica,
              ...(this.#options.binaryFrames ? { binary: true } : {}),
            },
          }),
        )
      },
      data: (text) => {
        if (this.#connection === current) this.#onData(text)
      },
      close: (error) => {
        clearTimeout(this.#helloTimer)
        if (this.#connection !== current) return
        this.#connection = undefined
        this.#onClosed(error)
      },
    })
    this.#connection = current
  }

  #onData(chunk: string | Uint8Array): void {
    const { logger } = this.#options
    let frames: WireFrame[]
    try {
      frames = this.#decoder!.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk)
    } catch (error) {
      logger.error?.('the server sent a frame that is too large or malformed; reconnecting', { error: String(error) })
      this.#lastFailure = error as Error
      this.#connection?.close()
      return
    }
    const maxContainers = maxFrameContainers(this.#options.maxFrameBytes)
    for (const frame of frames) {
      const decoded = decodeServerMessage(frame, { maxContainers })
      if (!decoded.ok && decoded.error.code === ErrorCode.FRAME_TOO_LARGE) {
        // Refused before it was decoded whole, as a frame past the limit is.
        logger.error?.('the server sent a frame that is too large or malformed; reconnecting', { error: String(decoded.error) })
        this.#lastFailure = decoded.error
        this.#connection?.close()
        return
      }
      if (!decoded.ok) {
        this.#onMalformed(decoded.error, decoded.id)
        continue
      }
      const { message } = decoded
      switch (message.type) {
        case ServerMessageType.Response:
          this.#onResponse(message.data)
          break
        case ServerMessageType.StateChanged: {
          const { epoch, version, patches, action, clientId } = message.data
          if (this.#replica?.apply(epoch, version, patches, { action, clientId }) === 'gap') {
            this.#resync('a change did not follow the replica')
          }
          break
        }
        case ServerMessageType.ServerClosing:
          this.#serverClosing = true
          logger.info?.('the server is closing', { reason: message.data.reason })
          break
        case ServerMessageType.ProtocolError:
          this.#lastFailure = errorFromWire(message.data.error)
          this.#learnLimit(this.#lastFailure as IpcStateError)
          logger.warn?.('the server reported an error', { ...message.data.error, fatal: message.data.fatal })
          break
        case ServerMessageType.SeedSharedData:
          break
      }
      if (this.#connection === undefined) return
    }
  }

  /**
   * A frame that does not decode may have been a change: the replica fetches a fresh snapshot
   * rather than stay behind, and a request whose answer was unreadable fails now, not at its timeout.
   */
  #onMalformed(error: IpcStateError, id: number | undefined): void {
    this.#options.logger.warn?.('the server sent a frame that does not decode', { reason: error.message })
    if (id !== undefined && id === this.#helloId) {
      this.#lastFailure = error
      this.#connection?.close()
      return
    }
    if (id !== undefined) this.#calls.unreadable(id, error)
    if (this.#replica !== undefined) this.#resync('a frame did not decode')
  }

  #onResponse(response: ResponseMessage): void {
    if (response.id === this.#helloId) {
      this.#onHello(response)
      return
    }
    if (response.id === this.#resyncId) {
      this.#resyncId = -1
      if (response.error === undefined) {
        const problem = this.#snapshotProblem(response.result)
        if (problem === undefined) {
          const snapshot = response.result as StateGetResult
          this.#replica?.reset(snapshot.epoch, snapshot.version, snapshot.state)
          return
        }
        // A server that would move the replica back, or sends no snapshot at all, is not believed:
        // the replica stays as it was, and a new connection brings a hello's snapshot.
        this.#lastFailure = new IpcStateError(
          ErrorCode.BAD_REQUEST,
          `The server at ${this.#options.path} answered a resync with ${problem}; reconnecting`,
        )
        this.#options.logger.error?.('the server sent a snapshot the replica cannot take; reconnecting', { reason: problem })
        this.#connection?.close()
      } else {
        // Without a snapshot the replica cannot catch up on this connection; a new one brings one.
        this.#lastFailure = errorFromWire(response.error)
        this.#options.logger.warn?.('the server refused a snapshot; reconnecting', { ...response.error })
        this.#connection?.close()
      }
      return
    }
    this.#calls.answer(response)
  }

  #onHello(response: ResponseMessage): void {
    this.#helloId = -1
    clearTimeout(this.#helloTimer)
    if (response.error !== undefined) {
      const error = errorFromWire(response.error)
      if (error.code === ErrorCode.PROTOCOL_MISMATCH) this.close(error)
      else {
        this.#lastFailure = error
        this.#connection?.close()
      }
      return
    }
    const problem = helloResultProblem(response.result, this.#options.replica)
    if (problem !== undefined) {
      // Not a server of this protocol, or a broken one: trying again would only meet it again.
      const error = new IpcStateError(
        ErrorCode.BAD_REQUEST,
        `The server at ${this.#options.path} answered the handshake with ${problem}: it does not speak this client's protocol`,
      )
      this.#options.logger.error?.('the server answered the handshake with a malformed result', { reason: problem })
      this.close(error)
      return
    }
    const hello = response.result as HelloResult
    const newRun = hello.epoch !== this.#epoch
    this.#epoch = hello.epoch
    const refused = this.#refusedAt?.epoch === hello.epoch ? this.#refusedAt.limit : undefined
    this.#replica?.reset(hello.epoch, hello.version, hello.state)
    this.#retries.succeeded()
    this.#lastFailure = undefined
    this.#status.set('connected')
    this.#options.signal?.removeEventListener('abort', this.#onAbort)
    this.#settleConnect?.resolve()
    this.#settleConnect = undefined
    // A status listener may have closed the client, or the connection, meanwhile.
    const current = this.#connection
    if (this.#status.current !== 'connected' || current === undefined) return
    this.#calls.resume((frame) => current.write(frame), {
      newRun,
      binary: hello.binary === true,
      maxFrameBytes: hello.maxFrameBytes ?? refused,
    })
  }

  /** What makes a resync's result unfit for the replica, or `undefined` when nothing does. */
  #snapshotProblem(result: unknown): string | undefined {
    const problem = snapshotProblem(result)
    if (problem !== undefined || this.#replica === undefined) return problem
    const { epoch, version } = result as StateGetResult
    if (epoch === this.#replica.epoch && version < this.#replica.version) {
      return `a snapshot at version ${version}, older than the replica's ${this.#replica.version} of the same store`
    }
    return undefined
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

  #resync(reason: string): void {
    // Before the handshake is answered, the hello's snapshot is on its way anyway.
    if (this.#resyncId !== -1 || this.#connection === undefined || this.#status.current !== 'connected') return
    this.#options.logger.info?.('resyncing the replica', { reason, version: this.#replica?.version })
    this.#resyncId = this.#calls.nextId()
    this.#connection.write(encodeClientMessage({ type: ClientMessageType.StateGet, data: { id: this.#resyncId } }))
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
    this.#resyncId = -1
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
