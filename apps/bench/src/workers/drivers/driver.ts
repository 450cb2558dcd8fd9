// What a client worker needs from each side: calls, an optional local read, a subscription and a
// timed first snapshot. One module per side implements it.
import type { Address, ClientConfig } from '../configs.js'

/** An operation of the bench, named after what the ipc-state action does. */
export type Op = 'incr' | 'echo' | 'get' | 'publish' | 'pushShift'

/** One connected client of a side. */
export interface Driver {
  /** One operation, answered by the server. */
  call(op: Op, value?: unknown): Promise<unknown>
  /** Reads the counter without a round trip, where the side keeps a replica. */
  readonly readLocal?: () => number
  /**
   * Makes this connection receive what `publish` sends; `onCount` gets how many messages arrived
   * since, each time one does, and the latest message where the side passes it on.
   */
  subscribe(onCount: (count: number, message?: string) => void): Promise<void>
  close(): Promise<void>
}

/** One side's client: how to connect, and how to take a first snapshot on a fresh connection. */
export interface Side {
  connect(config: ClientConfig): Promise<Driver>
  /**
   * Opens a new connection and resolves once the whole state arrived (decoded), with a function
   * that closes the connection.
   */
  firstSnapshot(address: Address): Promise<() => Promise<void>>
}
