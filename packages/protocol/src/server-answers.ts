// What a server answers of itself: the description `server/info` gives and the changes `changes/list` kept, with their bounds.
import type { Patch } from './messages.js'

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

/**
 * Changes a `changes/list` result holds at most, whatever the server keeps: a client refuses a
 * result with more.
 */
export const CHANGES_LIST_MAX = 10_000

/** One change the server kept, as `changes/list` gives it. */
export interface RecentChange {
  /** The version the change made. */
  version: number
  /** When the server published it, in milliseconds since 1970 on the server's clock. */
  at: number
  /** The action that made it, when one did (absent for a change the storage brought from another server that did not name it). */
  action?: string
  /** The `clientId` of the client that called it; `''` for the server process's own calls. */
  clientId?: string
  /** What changed; empty when `patchesOmitted`. */
  patches: Patch[]
  /** Present, and true, when the change's patches were larger than all the server keeps, and were left out. */
  patchesOmitted?: true
}

/** The answer to `changes/list`: the last changes the server published, oldest first. */
export interface ChangesListResult {
  epoch: string
  /** The version the server serves now: the last change's, unless it kept none. */
  version: number
  /**
   * The changes kept, oldest first, in version order (none when the server keeps no history, or has
   * published nothing since it started). At most {@link CHANGES_LIST_MAX}.
   */
  changes: RecentChange[]
}
