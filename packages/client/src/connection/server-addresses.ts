// The servers a client may connect to (one, or several sharing a store): which one each attempt goes to, and which it may not take.
import { ErrorCode, IpcStateError, type Logger } from '@ipc-state/protocol'
import type { ClientConnection, ClientConnectionHandlers, ClientTransport } from '../transport/client-transport.js'

/** What carries the bytes to one server, named where it is. */
export type NamedTransport = ClientTransport & { readonly name: string }

/**
 * The servers a client may connect to: the first attempt goes to the first, and each later one,
 * after a failed attempt or a lost connection, to the next in turn. With a single server every
 * attempt goes to it.
 *
 * A server of another epoch than the client's store is taken only at the address of the last
 * handshake: there it is that server started again (a new run, as a single server may be); at any
 * other address it is an unrelated server, whose state must not replace the client's.
 */
export class ServerAddresses {
  readonly #transports: readonly NamedTransport[]
  readonly #logger: Logger
  #current = 0
  #opened = false
  /** The address of the last handshake; -1 before the first. */
  #greeted = -1

  /** @param transports one per address, the main one first */
  constructor(transports: readonly NamedTransport[], logger: Logger) {
    if (transports.length === 0) throw new TypeError('a client needs at least one server address')
    this.#transports = transports
    this.#logger = logger
  }

  /** Every address, for messages: the main one, or all joined with "or". */
  get name(): string {
    return this.#transports.map((transport) => transport.name).join(' or ')
  }

  /** The address of the current (or last) attempt. */
  get current(): string {
    return this.#transports[this.#current]!.name
  }

  /** Opens an attempt to the next address in turn (the first one the first time). */
  open(handlers: ClientConnectionHandlers): ClientConnection {
    if (this.#opened && this.#transports.length > 1) {
      this.#current = (this.#current + 1) % this.#transports.length
      this.#logger.info?.('trying the next server', { path: this.current })
    }
    this.#opened = true
    return this.#transports[this.#current]!.open(handlers)
  }

  /**
   * Why the server that just answered the hello, with `epoch`, must not be taken by a client whose
   * store is `known` (`''` before its first handshake), or `undefined` when it may be. Once taken,
   * its address is the one a new run is taken from.
   */
  refusal(epoch: string, known: string): IpcStateError | undefined {
    if (known !== '' && epoch !== known && this.#current !== this.#greeted) {
      const path = this.current
      this.#logger.warn?.('a server at another address serves another store; trying the next', { path, epoch, known })
      return new IpcStateError(
        ErrorCode.SERVER_UNAVAILABLE,
        `The server at ${path} serves another store (epoch ${epoch}, not this client's ${known}): ` +
          'failover addresses must be servers that share one store',
        { data: { path, epoch, expected: known } },
      )
    }
    this.#greeted = this.#current
    return undefined
  }
}
