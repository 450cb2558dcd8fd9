// What waits in the queue of calls: a client's call, a call of the server process itself, a join or a leave.
import type { ActionFunction, IpcStateError } from '@ipc-state/protocol'
import type { ActionCallRequest } from '@ipc-state/protocol/wire'
import type { Session } from '../connections/session.js'
import type { PresenceMark } from '../storage/storage.js'

/** A call a client sent. */
export interface ClientJob {
  /** The connection that sent the call; its in-flight count includes it until it is answered. */
  session: Session
  clientId: string
  instanceId: string
  request: ActionCallRequest
}

/** A call the server process made itself (`server.actions`): answered through its promise. */
export interface ServerJob {
  session: undefined
  action: string
  resolve(value: unknown): void
  reject(error: IpcStateError): void
}

/** A presence hook that is due once it reaches its turn: what it runs and what it marks. */
export interface DueHook {
  /** `onClientJoin` or `onClientLeave`: what replicas see as the change's action. */
  name: string
  /** The store's hook, `undefined` when the store has none: the change then only carries the mark. */
  hook: ActionFunction<never> | undefined
  /** The hook's second argument. */
  event: unknown
  mark: PresenceMark
}

/** A join or a leave, queued to run its hook in the total order (see `presence/presence.ts`). */
export interface HookJob {
  session: undefined
  action: undefined
  /** Decides at its turn, against every change before it: `undefined` when it is no longer due. */
  due(): DueHook | undefined
  /** The change that records `mark` was applied to the working state. */
  applied(mark: PresenceMark): void
  /** The change that records `mark` is durable and sent to replicas. */
  committed(mark: PresenceMark): void
  /** Its change could not be stored. */
  failed(error: IpcStateError): void
}

export type Job = ClientJob | ServerJob | HookJob

/**
 * Who a call of the server process itself is, to its action (`context`) and to replicas
 * (`ChangeInfo.clientId`): no client can say hello with an empty id. Its changes are stored with
 * the instance `''`, as changes no client made are.
 */
export const SERVER_CALLER = { clientId: '', instanceId: '' } as const
