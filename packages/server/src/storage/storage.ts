import type { Logger } from '@ipc-state/protocol'

// The seam between the server and where its committed changes go. The server hands a storage
// an ordered log of entries and waits for each to be durable before it answers or publishes; at
// start-up the storage gives back the state, the version and the record of answered calls that its
// log and snapshots hold. A file folder (file-storage.ts) is one such storage; keeping the state in
// memory only is the absence of one.

/** A client instance's record, as persisted: enough to answer its resent calls after a restart. */
export interface StoredInstance {
  /** The client instance's id. */
  instanceId: string
  /** The id of the hello that made its record (see CallRecord). */
  since: number
  /** The highest call id whose answer was dropped to keep `dedupWindow`, -1 while none was. */
  forgotten: number
  /** Its recorded answers, oldest first. */
  answers: StoredAnswer[]
}

/** One recorded answer to a call that changed the state. */
export interface StoredAnswer {
  /** The call's id. */
  id: number
  /** The answer as it was sent. */
  frame: string
}

/** One entry of the log a storage keeps, in the order the server made them. */
export type StorageEntry =
  /** A client instance's record was made by a hello with id `since`. */
  | { kind: 'instance'; instanceId: string; since: number }
  /** A committed change, with the answer to the call that made it. */
  | {
      kind: 'change'
      version: number
      /** The change's patches as JSON, as replicas receive them. */
      patchesJson: string
      instanceId: string
      id: number
      valueJson: string | undefined
      /** The action's name and the caller's client id, for replicas served by other servers. */
      action?: string
      clientId?: string
    }

/** Everything a storage persists at once when it writes a snapshot of the whole store. */
export interface StoreImage {
  version: number
  /** The state as UTF-8 JSON. */
  stateJson: Uint8Array
  /** The record of answered calls, every instance it holds. */
  instances: StoredInstance[]
}

/** What a storage loaded at start-up. */
export interface LoadedStore {
  /** The store's identity: kept across restarts that lost nothing a client could have seen. */
  epoch: string
  version: number
  /** The state, or `undefined` for a storage that holds nothing yet (the store's initial state). */
  state: unknown
  /** Instances and answers to restore into the record of answered calls, oldest first. */
  instances: StoredInstance[]
}

/** What the server gives a storage when it opens it. */
export interface StorageContext {
  /**
   * The version of the store definition the server runs. A storage that holds a state of a newer
   * version refuses it (`STORE_TOO_NEW`); one of an older version goes through {@link migrate}.
   */
  storeVersion: number
  /**
   * Turns a stored state of store version `fromVersion` into this store version's state (the
   * store's `migrate`, its result normalised as JSON). A storage stores the result, at the next
   * version, before `open` resolves: later changes apply to it.
   */
  migrate(state: unknown, fromVersion: number): unknown
  /** Answers the record keeps per client instance (`dedupWindow`): older ones need not be loaded. */
  answersKept: number
  /**
   * The most bytes of JSON one stored change's patches or answer, or a stored state, may take (the
   * server's `maxStateBytes`: a change never carries more than the whole state). A shared storage
   * refuses a longer entry or snapshot state as damage before it parses it: no server with these
   * settings wrote it.
   */
  maxEntryBytes: number
  /** The store's initial state as JSON: what a storage that holds nothing yet starts with, and stores. */
  initialStateJson: string
  /** A new epoch, for a storage that holds nothing yet or lost what clients may have seen. */
  newEpoch: string
  logger: Logger
  /** The whole store as it is now, for a snapshot; called only between appends. */
  image(): StoreImage
  /**
   * For a storage several servers share: hands the server what other servers committed, in the
   * order of the shared log, each entry at most once (entries this server wrote may come back, and
   * are skipped). Call it only after `open` resolved. The server applies each change to its state
   * as a replica does and forwards it to its own clients, at once when no write of its own is under
   * way, else once that write settled.
   *
   * Throws when a change applied at once does not apply to the state (the server stays at the
   * version before it, and drops what followed). One applied later that does not apply is logged
   * and dropped the same way: the server's next change is then made against a version older than
   * the one the storage handed over, and the storage refuses to write it rather than lose the same
   * race for ever.
   */
  receive(updates: readonly ExternalUpdate[]): void
}

/**
 * What a shared storage's {@link Storage.write} resolves with when another server wrote first: the
 * entries were not written, none of them. Before resolving, the storage has handed the server
 * (through {@link StorageContext.receive}) everything up to the version that beat it; the server
 * then takes those changes and runs the refused calls again on top of them.
 */
export interface WriteConflict {
  conflict: true
}

/**
 * Something another server committed to a shared storage, as {@link StorageContext.receive} gets it:
 * an entry of the shared log (a change no call made, such as a migration, has the instance `''`),
 * or word that the changes after the server's version are gone from the shared log, so it starts
 * again from this whole store (replicas resync from it).
 */
export type ExternalUpdate = StorageEntry | { kind: 'reload'; store: LoadedStore }

/**
 * A place where committed changes go, and where the state comes from at start-up. The server calls
 * it from one place, in order: `open` once, then `write` one batch at a time (never again before
 * the previous one settled), then `close` once.
 */
export interface Storage {
  /**
   * Loads what was stored. Called once, before the server listens.
   * @throws IpcStateError `STORE_LOCKED`, `STORE_DAMAGED`, `STORE_TOO_NEW`
   */
  open(context: StorageContext): Promise<LoadedStore>
  /**
   * Appends `entries` after every entry written before them, and resolves once they are as durable
   * as this storage promises. Rejects with an `IpcStateError` `PERSIST_FAILED` when they could not
   * be written: none of them counts as written then, and the next write must not follow bytes
   * of a failed one. May write a snapshot (`context.image()`) first. A shared storage rejects with
   * `STORE_DAMAGED` (or `STORE_TOO_NEW`) once the shared store holds what this server cannot take:
   * calls get that error as it is.
   *
   * A storage several servers share resolves with a {@link WriteConflict} instead when another
   * server committed after the last change this server has: nothing was written then. The changes
   * in `entries` are numbered from the version the server serves; a shared storage writes them only
   * if that is still the latest version, atomically with the answers they carry.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: a storage that resolves with nothing (Promise<void>) must still fit
  write(entries: readonly StorageEntry[]): Promise<void | WriteConflict>
  /** Makes everything written durable and releases the storage. Called once, last. */
  close(): Promise<void>
}
