// The storage contract: what a place that keeps a store's log of entries and its snapshots does for the server.
import type { IpcStateError, Logger } from '@ipc-state/protocol'
import type { CallRelay, RelayTarget } from './call-relay.js'

// The server does everything that means something: it replays what a storage hands back into the
// state and the record of answered calls, trims the record, makes the answers' frames, migrates a
// state an older store version wrote, and decides what a change is. A storage only keeps, in
// order, what it is given, and hands it back: a log of entries after a snapshot of the whole store,
// and (when several servers share it) compares before it appends and hands in what others wrote.
// `storageContract` (from `@ipc-state/server/testing`) runs a storage through every promise below.

/** One recorded answer to a call that changed the state: what the call returned, at which version. */
export interface StoredAnswer {
  /** The call's id. */
  id: number
  /** The version its change made. */
  version: number
  /** What the action returned, as JSON; absent when it returned nothing (`undefined`). */
  valueJson?: string
}

/** A client instance's record, as kept: enough to answer its resent calls after a restart. */
export interface StoredInstance {
  /** The client instance's id. */
  instanceId: string
  /** The id of the hello that made its record. */
  since: number
  /** The highest call id whose answer was dropped to keep `dedupWindow`, -1 while none was. */
  forgotten: number
  /** Its recorded answers, oldest first. */
  answers: StoredAnswer[]
}

/**
 * A client instance present in the store: it joined (its first hello ran the store's
 * `onClientJoin`) and has not left yet. Kept so that a server that takes over the store, after a
 * restart or another server's death, runs `onClientLeave` for the instances that do not come back.
 */
export interface PresentInstance {
  instanceId: string
  clientId: string
  /**
   * The server the instance is connected to, when several servers share the storage: its lease in
   * the storage says whether it lives. Absent for a storage one server has to itself.
   */
  server?: string
}

/** What a join or a leave did to the store's presence: carried, as JSON, by the change that ran its hook. */
export type PresenceMark =
  /** The instance joined, or moved to another server sharing the storage (`server` changed). */
  | { joined: PresentInstance }
  /** The instance with this id left. */
  | { left: string }

/**
 * One entry of the log a storage keeps, in the order the server made them, every field as given
 * (`action` and `clientId` are needed only by a storage several servers share).
 */
export type StorageEntry =
  /** A client instance's record was made by a hello with id `since`. */
  | { kind: 'instance'; instanceId: string; since: number }
  /** A committed change, with the answer to the call that made it. */
  | {
      kind: 'change'
      /** The version it makes: one more than the version before it. */
      version: number
      /** The change's patches as JSON (an array), as replicas receive them. */
      patchesJson: string
      /** The instance and id of the call that made it; `''` and 0 for a change no call made (a migration). */
      instanceId: string
      id: number
      /** What the call returned, as JSON; `undefined` when it returned nothing. */
      valueJson: string | undefined
      /** The action's name and the caller's client id, for replicas served by other servers. */
      action?: string
      clientId?: string
      /**
       * Set on a change a migration made, by a storage that keeps a migration as an entry of its log
       * rather than as a snapshot (see {@link Storage.migrate}): the store version the state has from
       * it on. The server never writes it.
       */
      storeVersion?: number
      /**
       * Set on a change that ran a presence hook: the join or leave it records, as JSON (a
       * {@link PresenceMark}). A storage keeps it as given.
       */
      presenceJson?: string
    }

/** A snapshot of the whole store, as the server gives it to a storage to keep. */
export interface StoreImage {
  /** The version of the state. */
  version: number
  /** The state, as UTF-8 JSON (an object). */
  stateJson: Uint8Array
  /** The record of answered calls: every instance it holds. */
  instances: StoredInstance[]
  /** The client instances present, when the store's presence hooks track any (absent: none). */
  present?: PresentInstance[]
}

/** A snapshot made by a migration: the state, turned by the store's `migrate`, of `storeVersion`. */
export interface MigratedImage extends StoreImage {
  /** The store version the server runs, which the state now has. */
  storeVersion: number
}

/**
 * What a storage holds, as it hands it back: its latest snapshot and the log of entries after it.
 * The server replays the entries onto the snapshot, in order; a storage never interprets them.
 */
export interface StoredLog {
  /** The store's identity, as the storage keeps it (see {@link StorageContext.newEpoch}). */
  epoch: string
  /** The store version the snapshot's state was written by; changes with a `storeVersion` move it on. */
  storeVersion: number
  /** The snapshot's version (0 for the initial state). */
  version: number
  /** The snapshot's state (parsed JSON, an object). A storage that held nothing hands back the initial state it stored. */
  state: unknown
  /**
   * The bytes of the JSON {@link state} was parsed from, when the storage parsed it itself and
   * hands it to nobody else: the server then takes the state as it is, instead of encoding it and
   * parsing it again to have a copy of its own and its size (most of a start from a large state).
   * Without it the server does so.
   */
  stateBytes?: number
  /** The snapshot's record of answered calls. */
  instances: StoredInstance[]
  /** The snapshot's client instances present (see {@link StoreImage.present}); absent: none. */
  present?: PresentInstance[]
  /** The entries after the snapshot, oldest first: each change makes the version after the one before. */
  entries: StorageEntry[]
  /**
   * The error for damage the server found while it replayed the log: in the entry at `index` of
   * {@link entries}, or in the snapshot (`'snapshot'`). A storage names the place (a file and an
   * offset, a key and an entry id) so a person can find it; without this, the server throws a
   * `STORE_DAMAGED` that names none.
   */
  damaged?(at: number | 'snapshot', what: string): IpcStateError
}

/** What the server gives a storage when it opens it. */
export interface StorageContext {
  /** The version of the store definition the server runs. A storage refuses a store a newer one wrote (`STORE_TOO_NEW`). */
  storeVersion: number
  /**
   * The most bytes of JSON one stored change's patches or answer, or a stored state, may take (the
   * server's `maxStateBytes`: a change never carries more than the whole state). A storage several
   * servers share refuses a longer entry or snapshot state as damage before it parses it.
   */
  maxEntryBytes: number
  /** The store's initial state as JSON: what a storage that holds nothing starts with, and keeps as its first snapshot. */
  initialStateJson: string
  /**
   * A new identity for the store: a storage that holds nothing yet keeps it and hands it back from
   * then on. One that may have lost what clients saw (say a crash before a flush) hands back this
   * one too, and keeps it, so clients start over from what it holds.
   */
  newEpoch: string
  logger: Logger
  /**
   * Replays `log` as the server will once `open` hands it back, and throws what the server would
   * refuse in it (`STORE_DAMAGED`, `STORE_TOO_NEW`), changing nothing. A storage that changes what
   * it holds while it opens (cuts off a torn tail, removes files a snapshot made obsolete) calls it
   * first, with the very log it then returns, so that a store the server refuses is left as it was.
   * The log's state is changed in place by it: hand back that object, not another copy of it.
   */
  check(log: StoredLog): void
  /**
   * The whole store as the server has it now, for a snapshot the storage chooses to write: call it
   * only from inside {@link Storage.write} (before appending) or {@link Storage.close}, when every
   * entry written before was applied and nothing else is: with several writes under way, only from a
   * write that came alone (see {@link Storage.writesAtOnce}).
   */
  image(): StoreImage
  /**
   * For a storage several servers share: hands the server what other servers committed, in the
   * order of the shared log, each entry once (entries this server wrote may come back, and are
   * skipped by version). Call it only after `open` resolved, never from inside a call of
   * `receive`. The server applies each change to its state and forwards it to its own clients.
   *
   * Throws when a change does not apply to the server's state: the storage must then stop writing
   * (its writes reject from then on), since this server's state is not the shared one any more.
   */
  receive(updates: readonly ExternalUpdate[]): void
  /** For a storage that relays calls to one writer (see {@link Storage.relay}): where it hands them. */
  relay?: RelayTarget
}

/**
 * What a shared storage's {@link Storage.write} resolves with when another server wrote first:
 * none of the entries was written. Before resolving, the storage has handed the server (through
 * {@link StorageContext.receive}) every entry up to the version that beat it; the server takes
 * those changes and runs the refused calls again on top of them.
 */
export interface WriteConflict {
  conflict: true
}

/**
 * Something another server committed to a shared storage, as {@link StorageContext.receive} gets it:
 * an entry of the shared log, or word that the entries after the server's version are gone from
 * the shared log (trimmed past it), so it starts again from the whole store as it is now (replicas
 * resync from it).
 */
export type ExternalUpdate = StorageEntry | { kind: 'reload'; store: StoredLog }

/**
 * For a storage several servers share: a lease per server, held from `open` to `close`, which tells
 * the others whether a server still lives. A server that sees another's lease run out leaves the
 * client instances that were connected to it (once their `leaveGrace` passed without them coming
 * back to any server); the storage's compare-and-append makes each leave happen once.
 */
export interface ServerLeases {
  /** This server's id in the storage, under which its lease is held. */
  readonly serverId: string
  /**
   * In milliseconds: a lease runs out at most ¾ of this after its server's death, and the servers
   * ask `alive` every ¼ of it, so they know of a death within this.
   */
  readonly leaseMs: number
  /**
   * Which of `serverIds` hold a lease now.
   * @throws when the storage cannot tell (it is unreachable): nobody is taken for dead then
   */
  alive(serverIds: readonly string[]): Promise<ReadonlySet<string>>
}

/**
 * A place where committed changes go, and where the store comes from at start-up. The server calls
 * it from one place, in order: `open` once; `migrate` (when the store needs it, before any write);
 * `write` one batch at a time, never again before the previous one settled (unless
 * {@link Storage.writesAtOnce} lets it); `close` once.
 */
export interface Storage {
  /**
   * Loads what is kept: the latest snapshot and the entries after it. A storage that holds
   * nothing keeps the initial state (`context.initialStateJson`) at version 0 as its first
   * snapshot, with `context.newEpoch` and `context.storeVersion`, and hands that back.
   * @throws IpcStateError `STORE_LOCKED` (another server has it and shares it with nobody),
   *   `STORE_DAMAGED` (what it holds is not what a storage wrote), `STORE_TOO_NEW` (a newer store
   *   version than `context.storeVersion` wrote it)
   */
  open(context: StorageContext): Promise<StoredLog>
  /**
   * Keeps `image`, the store migrated by the server to `image.storeVersion`, as the snapshot that
   * follows everything `open` handed back (its version is one more than the log's last); later
   * entries apply to it. Resolves with nothing once it is kept. A shared storage keeps it only if
   * no other server wrote since; otherwise it keeps nothing and resolves with the store as it is
   * now, which the server replays (and migrates, if it still has to) before it calls again.
   * @throws IpcStateError as {@link open} does
   */
  migrate(image: MigratedImage): Promise<StoredLog | undefined>
  /**
   * Appends `entries` after every entry written before them, and resolves once they are as durable
   * as this storage promises: `open` hands them back from then on, in order, with every field as
   * given (`action` and `clientId` only by a storage several servers share). Rejects with an
   * `IpcStateError` when they could not be written (`PERSIST_FAILED`; `BACKEND_UNAVAILABLE` for a
   * storage reached over a network): none of them counts as written then, and a later write must not
   * follow bytes of a failed one. Before it appends, it may write a snapshot
   * ({@link StorageContext.image}).
   *
   * Compare-and-append, for a storage several servers share: the changes in `entries` are numbered
   * from the version the server serves (the first makes that version plus one); the storage writes
   * them only if that is still the latest version of the shared log, and resolves with a
   * {@link WriteConflict} otherwise, having written nothing. It rejects with `STORE_DAMAGED` (or
   * `STORE_TOO_NEW`) once the shared store holds what this server cannot take.
   */
  // biome-ignore lint/suspicious/noConfusingVoidType: a storage that resolves with nothing (Promise<void>) must still fit
  write(entries: readonly StorageEntry[]): Promise<void | WriteConflict>
  /**
   * How many writes the server may have under way at once, asked right before each write: it calls
   * `write` again before the earlier writes settled only while fewer than this are undelivered, so
   * that the next batch is appended (or sent) while the earlier ones flush. Absent: 1, one write at a
   * time. A storage that answers more than 1 keeps the order writes were called in, and makes every
   * write after one that failed or was refused fail or be refused too, having written nothing of it:
   * those were made on top of it. It answers 1 for a write that has to come alone: the write that
   * follows that answer is called once every earlier one settled and was applied, so it may call
   * {@link StorageContext.image} (take a snapshot), and only such a write may when several are under way.
   */
  writesAtOnce?(): number
  /** Set once `open` resolved, by a storage several servers share that keeps a lease for each (see {@link ServerLeases}). */
  readonly leases?: ServerLeases
  /** Set once `open` resolved, by a storage several servers share that runs every call on one of them (see {@link CallRelay}). */
  readonly relay?: CallRelay
  /** Makes everything written durable and releases the storage: after it, another storage may open the same place. Called once, last. */
  close(): Promise<void>
}
