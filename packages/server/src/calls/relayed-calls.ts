// The calls this server passed to the writer and waits on, and how the writer reads a call another server passed.
import type { Logger } from '@ipc-state/protocol'
import {
  type ActionCallRequest,
  ClientMessageType,
  decodeClientMessage,
  isRequestId,
  maxFrameContainers,
} from '@ipc-state/protocol/wire'
import type { Session } from '../connections/session.js'
import type { CallRelay, RelayedCall, RelayedReply } from '../storage/call-relay.js'

/** A call this server relayed and that was not answered yet. */
export interface Relayed {
  /** The connection that sent it: its in-flight count includes the call until it is answered. */
  session: Session
  action: string
  /** When it arrived, on the metrics' clock. */
  at: number
  call: RelayedCall
  /** Whether this server, the writer by now, queued it to run itself. */
  running?: true
}

/** What {@link RelayedCalls} needs. */
export interface RelayedCallsOptions {
  relay: CallRelay
  /** This server's id in the storage: where the writer sends what it answers. */
  serverId: string
  /** The bounds a client's frame is decoded with (the server's `maxDepth` and `maxFrameBytes`). */
  maxDepth: number
  maxFrameBytes: number
  logger: Logger
}

/**
 * The calls this server relayed to the writer (see `CallRelay`), by client instance and call id,
 * until their answer comes back: with the change that carries it, or in the writer's reply. Kept
 * whole, each instance's in the order they came, so that they can be relayed again to a new writer.
 */
export class RelayedCalls {
  readonly #options: RelayedCallsOptions
  readonly #calls = new Map<string, Map<number, Relayed>>()
  /** The id of each call relayed and not answered yet. */
  readonly #ids = new WeakMap<RelayedCall, number>()
  #size = 0

  constructor(options: RelayedCallsOptions) {
    this.#options = options
  }

  /** Calls relayed and not answered yet. */
  get size(): number {
    return this.#size
  }

  /** Whether this server is the writer now, and runs its clients' calls itself. */
  get writing(): boolean {
    return this.#options.relay.writing
  }

  /** The id calls this server relays carry as theirs. */
  get serverId(): string {
    return this.#options.serverId
  }

  /** Relays `request`, a call of `session` whose record was made by hello `since`. */
  forward(session: Session, request: ActionCallRequest, since: number, at: number): void {
    const call: RelayedCall = {
      from: this.#options.serverId,
      instanceId: session.instanceId!,
      since,
      clientId: session.clientId!,
      frame: JSON.stringify({ type: ClientMessageType.ActionCall, data: request }),
    }
    let calls = this.#calls.get(call.instanceId)
    if (calls === undefined) {
      calls = new Map()
      this.#calls.set(call.instanceId, calls)
    }
    calls.set(request.id, { session, action: request.action, at, call })
    this.#ids.set(call, request.id)
    this.#size += 1
    session.inFlight += 1
    this.#options.relay.forward([call])
  }

  /**
   * Whether `call`, read back from the writer's stream of calls, is one of this server's own not
   * answered yet that it has not queued to run: it is queued now, once, by this server.
   */
  takeToRun(call: RelayedCall, id: number): boolean {
    if (call.from !== this.#options.serverId) return false
    const relayed = this.#calls.get(call.instanceId)?.get(id)
    if (relayed === undefined || relayed.running) return false
    relayed.running = true
    return true
  }

  /** Takes call `id` of `instanceId` off the list when this server relayed it: it is answered now. */
  settle(instanceId: string, id: number): Relayed | undefined {
    const calls = this.#calls.get(instanceId)
    const relayed = calls?.get(id)
    if (relayed === undefined) return undefined
    calls!.delete(id)
    if (calls!.size === 0) this.#calls.delete(instanceId)
    this.#size -= 1
    relayed.session.inFlight -= 1
    return relayed
  }

  /** The id of `call`, relayed by this server and not answered yet; `undefined` for any other. */
  idOf(call: RelayedCall): number | undefined {
    return this.#ids.get(call)
  }

  /** Relays every call not answered yet again, each client instance's in the order they came (see `RelayTarget.relayAgain`). */
  again(): void {
    if (this.#size === 0) return
    const calls: RelayedCall[] = []
    for (const byId of this.#calls.values()) for (const relayed of byId.values()) calls.push(relayed.call)
    this.#options.logger.debug?.('relaying calls to the writer again', { calls: calls.length })
    this.#options.relay.forward(calls)
  }

  /** Sends the writer's reply to a call `from` relayed, when that is another server. */
  reply(from: string, reply: RelayedReply): void {
    if (from !== this.#options.serverId) this.#options.relay.reply(from, [reply])
  }

  /**
   * The call in `call.frame`, decoded with every check of a client's frame: `undefined`, logged
   * with `source` (where the storage read it), when it is not a call (the storage holds what a
   * server did not write).
   */
  decode(call: RelayedCall, source?: string): ActionCallRequest | undefined {
    const decoded = decodeRelayedFrame(call.frame, this.#options)
    if (typeof decoded !== 'string') return decoded
    this.#options.logger.warn?.('a relayed call is not a call: left unanswered', { source, from: call.from, error: decoded })
    return undefined
  }
}

/**
 * The call in a relayed call's `frame`, decoded with every check of a client's frame and the
 * bounds of a client's (`maxDepth`, and the containers `maxFrameBytes` allows); or why it is not one.
 */
export function decodeRelayedFrame(
  frame: string,
  bounds: Pick<RelayedCallsOptions, 'maxDepth' | 'maxFrameBytes'>,
): ActionCallRequest | string {
  const { maxDepth, maxFrameBytes } = bounds
  const decoded = decodeClientMessage(frame, { maxDepth, maxContainers: maxFrameContainers(maxFrameBytes) })
  if (decoded.ok && decoded.message.type === ClientMessageType.ActionCall) return decoded.message.data
  return decoded.ok ? `a "${decoded.message.type}" message` : decoded.error.message
}

/** Whether `reply` reads as the data of a `response` to its call: the writer's, not bytes someone else wrote. */
export function isReply(reply: RelayedReply): boolean {
  let data: unknown
  try {
    data = JSON.parse(reply.responseJson)
  } catch {
    return false
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return false
  const fields = data as Record<string, unknown>
  const hasResult = typeof fields.result === 'object' && fields.result !== null
  // An error as the client's decoder takes one: an error it cannot read would fail the call with
  // BAD_REQUEST rather than the writer's answer.
  const error = fields.error as Record<string, unknown> | null | undefined
  const hasError =
    typeof error === 'object' && error !== null && typeof error.code === 'string' && typeof error.message === 'string'
  return isRequestId(fields.id) && fields.id === reply.id && hasResult !== hasError && (hasError || fields.error === undefined)
}
