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
  /** The seed's plain node-ipc request for the whole state. */
  SeedGetSharedData: 'getSharedData',
} as const

/** The `type` of every frame a server sends. */
export const ServerMessageType = {
  Response: 'response',
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
}

export interface HelloResult {
  protocol: number
  /** Changes whenever a new server process starts. */
  epoch: string
  version: number
  /** The full state, present when the client asked for a replica. */
  state?: unknown
  /** The server takes binary frames on this connection and may send them (see `HelloRequest.binary`). */
  binary?: boolean
  /**
   * The largest frame the server reads, in bytes (a text frame without its delimiter, a binary
   * frame's body): a client refuses a call that would pass it rather than send it. Absent from
   * servers older than this field.
   */
  maxFrameBytes?: number
}

export type StateGetRequest = RequestBase

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

export interface ActionCallResult {
  /** What the action returned. */
  value: unknown
  /** The state version right after the action was applied. */
  version: number
}

export type ServerInfoRequest = RequestBase

/** Connections a `server/info` result lists at most; `connectionCount` counts them all. */
export const SERVER_INFO_MAX_CONNECTIONS = 1_000

/** One connection, as `server/info` describes it. */
export interface ServerInfoConnection {
  clientId: string
  instanceId: string
  /** Whether it keeps a replica and gets every change. */
  replica: boolean
  /** Its action calls queued and not answered yet. */
  inFlight: number
  /** Bytes queued for it and not written yet. */
  queuedBytes: number
  /** Present, and true, when it offered binary frames in its hello and the server took them. */
  binary?: boolean
  /** Binary frames the server read from it; present when `binary` is. */
  binaryFramesReceived?: number
  /** Binary frames the server wrote to it; present when `binary` is. */
  binaryFramesSent?: number
}

/** Actions a `server/info` result lists at most; `actionCount` counts them all. */
export const SERVER_INFO_MAX_ACTIONS = 1_000

/**
 * The largest input JSON Schema a `server/info` result carries for one action, in bytes of JSON;
 * a larger one is left out (`inputSchemaOmitted: 'too-large'`).
 */
export const SERVER_INFO_MAX_SCHEMA_BYTES = 64 * 1024

/**
 * The most bytes of JSON all the input schemas of a `server/info` result take together: the
 * schemas that would pass it are left out (`inputSchemaOmitted: 'too-large'`), so the answer stays
 * small however large the store.
 */
export const SERVER_INFO_MAX_SCHEMAS_BYTES = 1024 * 1024

/** One action of the store, as `server/info` describes it. */
export interface ServerInfoAction {
  /** Its name, as calls give it. */
  name: string
  /** Whether the server checks its input against a schema (the store's `inputs`) before running it. */
  hasInputSchema: boolean
  /**
   * Its input's JSON Schema (draft 2020-12), when its schema can describe itself as one (Standard
   * JSON Schema, `~standard.jsonSchema`: zod 4 and others) and the description fits within
   * {@link SERVER_INFO_MAX_SCHEMA_BYTES}.
   */
  inputSchema?: Record<string, unknown>
  /**
   * Why an action with a schema comes without `inputSchema`: `'unsupported'` when its schema cannot
   * describe itself as JSON Schema (it has no `~standard.jsonSchema`, or that threw, as for a date),
   * `'too-large'` when the description passes {@link SERVER_INFO_MAX_SCHEMA_BYTES}, or the
   * schemas together {@link SERVER_INFO_MAX_SCHEMAS_BYTES}.
   */
  inputSchemaOmitted?: 'unsupported' | 'too-large'
}

/** What the server says of itself in answer to `server/info`. */
export interface ServerInfoResult {
  protocol: number
  epoch: string
  version: number
  /** The socket path it serves. */
  path: string
  /** Milliseconds since it started. */
  uptimeMs: number
  /**
   * The connections that said hello, the first {@link SERVER_INFO_MAX_CONNECTIONS} of them when
   * there are more.
   */
  connections: ServerInfoConnection[]
  /** Every connection served now, those not greeted yet and those left out of `connections` too. */
  connectionCount: number
  /** Counted since the server started. */
  counters: {
    /** Action calls it took to run (a resend answered from its record, or a call refused, is not one). */
    calls: number
    /** Changes it applied and published: one per version. */
    changes: number
  }
  /**
   * The store's actions, sorted by name: the first {@link SERVER_INFO_MAX_ACTIONS} when there are
   * more. Absent from servers older than this field.
   */
  actions?: ServerInfoAction[]
  /** How many actions the store has, those left out of `actions` too. Absent with `actions`. */
  actionCount?: number
  /** The server's options that bound its clients. */
  limits: {
    maxConnections: number
    maxInFlight: number
    maxFrameBytes: number
    maxBufferedBytes: number
    maxTotalBufferedBytes: number
  }
}

/** Sent to every replica after each applied action, in version order. */
export interface StateChangedNotification {
  epoch: string
  version: number
  patches: Patch[]
  /** The name of the action that made the change. Absent from servers older than this field. */
  action?: string
  /** The `clientId` of the client that called it. Absent from servers older than this field. */
  clientId?: string
}

export interface ServerClosingNotification {
  reason: string
}

/** Sent for a frame that could not be matched to a request (bad JSON, no id). */
export interface ProtocolErrorNotification {
  error: WireError
  /** Whether the server closes the connection after this message. */
  fatal: boolean
}

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
  | { type: typeof ClientMessageType.SeedGetSharedData; data: unknown }

/** A validated server frame, as the client sees it. */
export type ServerMessage =
  | { type: typeof ServerMessageType.Response; data: ResponseMessage }
  | { type: typeof ServerMessageType.StateChanged; data: StateChangedNotification }
  | { type: typeof ServerMessageType.ServerClosing; data: ServerClosingNotification }
  | { type: typeof ServerMessageType.ProtocolError; data: ProtocolErrorNotification }
  | { type: typeof ServerMessageType.SeedSharedData; data: unknown }
