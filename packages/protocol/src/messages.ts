// The messages server and client exchange, and the protocol version they speak.
import type { WireError } from './errors.js'

/**
 * The protocol version this package speaks. A server and a client connect only when their
 * versions are equal; anything else fails the handshake with `PROTOCOL_MISMATCH`.
 */
export const PROTOCOL_VERSION = 1

/** The `type` of every frame a client sends. */
export const ClientMessageType = {
  Hello: 'hello',
  StateGet: 'state/get',
  ActionCall: 'action/call',
  ServerInfo: 'server/info',
  /**
   * The client instance is closing for good: the server runs the store's `onClientLeave` at once
   * instead of after its `leaveGrace`. Not answered; a server older than it ignores it.
   */
  Bye: 'bye',
  /** The changes the server kept, for a reader that was not there when they were made (the inspector). */
  ChangesList: 'changes/list',
  /** The seed's plain node-ipc request for the whole state. */
  SeedGetSharedData: 'getSharedData',
} as const

/** The `type` of every frame a server sends. */
export const ServerMessageType = {
  Response: 'response',
  /** The answers of one tick in one frame, to a client that offered `batch` in its hello. */
  Responses: 'responses',
  StateChanged: 'state/changed',
  ServerClosing: 'server/closing',
  ProtocolError: 'protocol/error',
  /** The seed's reply to `getSharedData`: the whole state as `data`. */
  SeedSharedData: 'sharedData',
} as const

/** A path into the state: object keys and array indexes. */
export type PatchPath = (string | number)[]

/** One change to the state, in the JSON-Patch-like form Immer and Mutative produce. */
export type Patch =
  | { op: 'add'; path: PatchPath; value: unknown }
  | { op: 'replace'; path: PatchPath; value: unknown }
  | { op: 'remove'; path: PatchPath }

/** Every request carries an id chosen by the client, echoed in its response. */
export interface RequestBase {
  /** A non-negative safe integer, unique among the client's requests. */
  id: number
}

/** The first request on every connection. */
export interface HelloRequest extends RequestBase {
  protocol: number
  /** Who the client is; actions see it as `context.clientId`. */
  clientId: string
  /**
   * Names one client instance, stable across its reconnects while its request ids keep counting.
   * The server keys its record of answered calls by it, so a resent call is answered from the
   * record, while a new instance reusing a `clientId` is not mistaken for the old one.
   * Defaults to `clientId` when absent.
   */
  instanceId?: string
  /** Whether the client keeps a replica and wants `state/changed` notifications. */
  replica: boolean
  /**
   * The client reads and writes binary frames (`0x00`, a u32 length, a MessagePack body) besides
   * `\f`-delimited JSON. A server that takes them says so with `binary: true` in its answer; only
   * then does either side send one.
   */
  binary?: boolean
  /**
   * The client reads batched frames: a `state/changed` that covers several versions (`from` to
   * `version`) and may carry the answers to its own calls (`answers`), and `responses`, the answers
   * of one tick in one frame. A server that sends them says so with `batch: true` in its answer;
   * only then does it send one.
   */
  batch?: boolean
}

/** The answer to `hello`: the server's run and version, and the state when a replica was asked for. */
export interface HelloResult {
  protocol: number
  /** Changes whenever a new server process starts. */
  epoch: string
  version: number
  /** The full state, present when the client asked for a replica. */
  state?: unknown
  /** The server takes binary frames on this connection and may send them (see `HelloRequest.binary`). */
  binary?: boolean
  /** The server sends batched frames on this connection (see `HelloRequest.batch`). */
  batch?: boolean
  /**
   * The largest frame the server reads, in bytes (a text frame without its delimiter, a binary
   * frame's body): a client refuses a call that would pass it rather than send it. Absent from
   * servers older than this field.
   */
  maxFrameBytes?: number
}

/** `state/get`: the whole state, now. */
export type StateGetRequest = RequestBase

/** The answer to `state/get`. */
export interface StateGetResult {
  epoch: string
  version: number
  state: unknown
}

export interface ActionCallRequest extends RequestBase {
  action: string
  /** The action's single input; absent when the action takes none. */
  input?: unknown
}

/** The answer to `action/call` that succeeded. */
export interface ActionCallResult {
  /** What the action returned. */
  value: unknown
  /** The state version right after the action was applied. */
  version: number
}

/** `server/info`: the server describes itself, its connections and its actions. */
export type ServerInfoRequest = RequestBase

/** `changes/list`: the last changes the server kept, oldest first. */
export type ChangesListRequest = RequestBase

/**
 * Sent to every replica after each applied action, in version order; to a client that offered
 * `batch`, once per tick for every change of that tick: versions `from` to `version`, their patches
 * one after the other, and the answers to the client's own calls that those changes show.
 */
export interface StateChangedNotification {
  epoch: string
  /** The version the replica is at once it applied the patches. */
  version: number
  /**
   * The first version the patches make, when they make several (a batch): the replica must be at
   * `from - 1`, and applies them whole. Absent when it is `version`.
   */
  from?: number
  patches: Patch[]
  /**
   * The name of the action that made the change (in a batch: that made every change of it; absent
   * when they were several). Absent from servers older than this field.
   */
  action?: string
  /** The `clientId` of the client that called it, as `action`. Absent from servers older than this field. */
  clientId?: string
  /**
   * The answers to this client's calls that the change shows (a batch only), each as a `response`
   * carries it: the client reads them once its replica holds the change.
   */
  answers?: ResponseMessage[]
}

/**
 * Sent before the server goes away, after the answer to every call it took: a call unanswered then
 * was not applied.
 */
export interface ServerClosingNotification {
  reason: string
}

/** Sent for a frame that could not be matched to a request (bad JSON, no id). */
export interface ProtocolErrorNotification {
  error: WireError
  /** Whether the server closes the connection after this message. */
  fatal: boolean
}

/** The answer to a request: its `id`, and its `result` or its `error`. */
export type ResponseMessage =
  | { id: number; result: unknown; error?: undefined }
  | { id: number; error: WireError; result?: undefined }

/** A validated client frame, as the server sees it. */
export type ClientMessage =
  | { type: typeof ClientMessageType.Hello; data: HelloRequest }
  | { type: typeof ClientMessageType.StateGet; data: StateGetRequest }
  | { type: typeof ClientMessageType.ActionCall; data: ActionCallRequest }
  | { type: typeof ClientMessageType.ServerInfo; data: ServerInfoRequest }
  | { type: typeof ClientMessageType.Bye; data: Record<string, never> }
  | { type: typeof ClientMessageType.ChangesList; data: ChangesListRequest }
  | { type: typeof ClientMessageType.SeedGetSharedData; data: unknown }

/** A validated server frame, as the client sees it. */
export type ServerMessage =
  | { type: typeof ServerMessageType.Response; data: ResponseMessage }
  | { type: typeof ServerMessageType.Responses; data: ResponseMessage[] }
  | { type: typeof ServerMessageType.StateChanged; data: StateChangedNotification }
  | { type: typeof ServerMessageType.ServerClosing; data: ServerClosingNotification }
  | { type: typeof ServerMessageType.ProtocolError; data: ProtocolErrorNotification }
  | { type: typeof ServerMessageType.SeedSharedData; data: unknown }
