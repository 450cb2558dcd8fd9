// `defineStore`, and the types that carry a store's state and actions to its servers and clients.
import type { StandardSchemaV1 } from '@standard-schema/spec'
import { actionSchema } from './action.js'

/** What an action knows about the call it serves. */
export interface ActionContext {
  /** The stable id of the calling client. Two client instances may share one (see `instanceId`). */
  readonly clientId: string
  /**
   * The id of the calling client instance: new for each `connect`, kept across its reconnects, so
   * unique among the clients alive at once. What the action records as "held by" a process.
   */
  readonly instanceId: string
  /** The state version the action runs against; the change it makes becomes `version + 1`. */
  readonly version: number
  /**
   * The server's clock when the action runs, in milliseconds since the epoch (`Date.now()`): the
   * same for every replica, since replicas apply the change, not the action. An action run again
   * (a shared store's retry) sees the clock of that run.
   */
  readonly now: number
}

/**
 * An action: a synchronous function that mutates a draft of the state and may return a
 * JSON-serialisable result. It takes at most one input, which crossed a process boundary.
 */
export type ActionFunction<S> = (state: S, input: any, context: ActionContext) => unknown

/** The actions of a store, by name. */
export type ActionMap<S> = Record<string, ActionFunction<S>>

/** The input an action declares (its second parameter), `undefined` when it takes none. */
export type ActionInput<F> = F extends (state: any, ...rest: infer P) => unknown ? (P extends [] ? undefined : P[0]) : never

/** Schemas for the inputs of some actions, each in any Standard Schema library (zod, valibot…). */
export type InputSchemas<A> = {
  [K in keyof A]?: StandardSchemaV1<unknown, ActionInput<A[K]>>
}

/** A client instance that said hello for the first time, as {@link DefineStoreOptions.onClientJoin} sees it. */
export interface ClientJoin {
  /** The client's id, as its actions see it in `context.clientId`. */
  readonly clientId: string
  /** The instance's id, as its actions see it in `context.instanceId`. */
  readonly instanceId: string
}

/**
 * Why a client instance left:
 * - `closed`: it closed its client;
 * - `lost`: its last connection ended without a goodbye and it did not come back within `leaveGrace`;
 * - `server-restart`: it was present when a server stopped (or was killed) and did not come back
 *   within `leaveGrace` of the server that took over the stored state;
 * - `server-lost`: the server it was connected to, one of several sharing a storage, died, and it did
 *   not come back to another within `leaveGrace` of that server's lease running out.
 */
export type LeaveReason = 'closed' | 'lost' | 'server-restart' | 'server-lost'

/** A client instance that is gone for good, as {@link DefineStoreOptions.onClientLeave} sees it. */
export interface ClientLeave extends ClientJoin {
  readonly reason: LeaveReason
}

/**
 * A hook the server runs when a client instance joins or leaves: like an action, it mutates a draft
 * of the state, and its change is stored and sent to every replica in the one total order. Its
 * context names no client (`clientId` and `instanceId` are `''`): the server makes the change.
 */
export type PresenceHook<S, E> = (state: S, event: E, context: ActionContext) => void

/** A store definition: the initial state and the actions, shared by server and clients. */
export interface StoreDefinition<S, A extends ActionMap<S>> {
  /** Runs once per client instance, at its first hello (see {@link DefineStoreOptions.onClientJoin}). */
  readonly onClientJoin?: PresenceHook<S, ClientJoin>
  /** Runs once per client instance, when it is gone for good (see {@link DefineStoreOptions.onClientLeave}). */
  readonly onClientLeave?: PresenceHook<S, ClientLeave>
  /** The state a new server starts from. Must be JSON-serialisable. */
  readonly initialState: S
  readonly actions: A
  /**
   * The schemas the server checks each action's input against before running it: those given in
   * `inputs`, and those of the actions made with `action()`.
   */
  readonly inputs: InputSchemas<A>
  /** The version of the state's shape, stored with persisted state (see {@link DefineStoreOptions.version}). */
  readonly version: number
  /** Brings a persisted state of an older {@link version} up to this one. */
  readonly migrate?: (state: unknown, fromVersion: number) => S
}

/** Options for {@link defineStore}. */
export interface DefineStoreOptions<S, A extends ActionMap<S>> {
  /** The state a new server starts from. Must be JSON-serialisable. */
  initialState: S
  /**
   * Named actions. Each gets a draft of the state to mutate, its input and an {@link ActionContext}.
   * Actions run one at a time on the server, in one total order.
   */
  actions: A
  /**
   * Schemas for the inputs of actions written as plain functions, whose input type is annotated
   * by hand (an action made with `action()` carries its own schema, and its input type comes
   * from it). Input that fails its schema is answered with `BAD_ARGUMENTS` and the action does not
   * run.
   * @default {}
   */
  inputs?: NoInfer<InputSchemas<A>>
  /**
   * The version of the state's shape, a whole number. A server that persists its state records it;
   * one started on a folder written by an older version runs `migrate` first, and one started on a
   * folder written by a newer version refuses to start (`STORE_TOO_NEW`).
   * @default 1
   */
  version?: number
  /**
   * Turns a persisted state written by store version `fromVersion` (older than `version`) into
   * this version's state. Without it, a state of an older version is used as it is.
   */
  migrate?: (state: unknown, fromVersion: number) => NoInfer<S>
  /**
   * Runs once per client instance, when it says hello for the first time: presence needs no call
   * of its own. An instance that was left and comes back joins again.
   */
  onClientJoin?: PresenceHook<NoInfer<S>, ClientJoin>
  /**
   * Runs once per client instance when it is gone for good: at once when it closes its client;
   * after the server's `leaveGrace` when its connection is lost and it does not come back (a client
   * that reconnects within the grace is not left); after a restart, for an instance that was present
   * and does not come back within the grace. What a process held (a claim, a lease, a lock) is
   * released here. With either hook defined, each join and each leave is a change of its own (a new
   * version), even when the hook changes nothing, so that it is stored exactly once.
   */
  onClientLeave?: PresenceHook<NoInfer<S>, ClientLeave>
}

/**
 * Defines a store once, for the server and every client. Types flow from this definition to
 * `client.state` and `client.actions` with no code generation.
 *
 * @example
 * ```ts
 * export const counterStore = defineStore({
 *   initialState: { counter: 0 },
 *   actions: {
 *     increment(state, by: number = 1) {
 *       state.counter += by
 *       return state.counter
 *     },
 *   },
 * })
 * ```
 * @throws TypeError when `initialState` is not a plain object or an action is not a function
 */
export function defineStore<S extends object, A extends ActionMap<S>>(options: DefineStoreOptions<S, A>): StoreDefinition<S, A> {
  const { initialState, actions, inputs = {}, version = 1, migrate, onClientJoin, onClientLeave } = options
  if (!Number.isSafeInteger(version) || version < 1)
    throw new TypeError('defineStore: version must be a whole number of at least 1')
  if (migrate !== undefined && typeof migrate !== 'function') throw new TypeError('defineStore: migrate must be a function')
  if (onClientJoin !== undefined && typeof onClientJoin !== 'function')
    throw new TypeError('defineStore: onClientJoin must be a function')
  if (onClientLeave !== undefined && typeof onClientLeave !== 'function') {
    throw new TypeError('defineStore: onClientLeave must be a function')
  }
  if (typeof initialState !== 'object' || initialState === null || Array.isArray(initialState)) {
    throw new TypeError('defineStore: initialState must be a plain object')
  }
  const schemas: Record<string, unknown> = { ...inputs }
  for (const [name, action] of Object.entries(actions)) {
    if (typeof action !== 'function') throw new TypeError(`defineStore: action "${name}" must be a function`)
    const own = actionSchema(action)
    if (own === undefined) continue
    if (Object.hasOwn(inputs, name))
      throw new TypeError(`defineStore: action "${name}" has a schema of its own, and inputs.${name} another`)
    schemas[name] = own
  }
  for (const [name, schema] of Object.entries(inputs as Record<string, unknown>)) {
    if (!Object.hasOwn(actions, name)) throw new TypeError(`defineStore: inputs.${name} names no action`)
    // Callable schemas (ArkType's) are functions carrying the same `~standard` property.
    if ((typeof schema !== 'object' && typeof schema !== 'function') || schema === null || !('~standard' in schema)) {
      throw new TypeError(`defineStore: inputs.${name} must be a Standard Schema (zod, valibot, arktype…)`)
    }
  }
  return Object.freeze({
    initialState,
    actions,
    inputs: schemas as InputSchemas<A>,
    version,
    ...(migrate === undefined ? {} : { migrate }),
    ...(onClientJoin === undefined ? {} : { onClientJoin }),
    ...(onClientLeave === undefined ? {} : { onClientLeave }),
  })
}

/** The state type of a store definition. */
export type StateOf<T> = T extends StoreDefinition<infer S, any> ? S : never

/** The action map of a store definition. */
export type ActionsOf<T> = T extends StoreDefinition<any, infer A> ? A : never

/**
 * The arguments a client passes to call action `F`: none, an optional input (the action's input
 * is optional or accepts `undefined`, as an action that declares `_input: undefined` only to reach
 * its context does), or a required one.
 */
export type CallArgs<F> = F extends (state: any, ...rest: infer P) => unknown
  ? P extends []
    ? []
    : P extends [infer I, ...unknown[]]
      ? [undefined] extends [I]
        ? [input?: I]
        : [input: I]
      : [input?: P[0]]
  : never

/** The result a client receives from action `F`. */
export type CallResult<F> = F extends (...args: any[]) => infer R ? Awaited<R> : never

/** A read-only view of `T`, all the way down. */
export type DeepReadonly<T> = T extends (infer E)[]
  ? readonly DeepReadonly<E>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T
