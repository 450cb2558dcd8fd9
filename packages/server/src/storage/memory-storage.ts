// A storage in the memory of one process: the reference for the storage contract, and a store for tests that several servers in one process share.
import { ErrorCode, IpcStateError } from '@ipc-state/protocol'
import type {
  ExternalUpdate,
  MigratedImage,
  Storage,
  StorageContext,
  StorageEntry,
  StoredLog,
  StoreImage,
  WriteConflict,
} from './storage.js'

/** How a {@link MemoryPlace} keeps its store. */
export interface MemoryPlaceOptions {
  /**
   * Several servers share it, each through a storage of its own: writes compare and append, and
   * each storage hands its server what the others wrote. Otherwise one storage at a time opens it
   * (another gets `STORE_LOCKED`). Default `false`.
   */
  shared?: boolean
  /** Entries after the last snapshot past which a write takes a new snapshot first. Default 1,000. */
  snapshotEvery?: number
}

/** Where memory storages keep one store: it outlives each storage, so a server can start again from it. */
export interface MemoryPlace {
  /** A new storage over this place: it finds what storages before it wrote. */
  storage(): Storage
  /**
   * Makes every write from now on reject with `PERSIST_FAILED`, having written nothing, until the
   * function it returns is called: to see what a server does when its storage cannot write.
   */
  failWrites(): () => void
}

/** The snapshot a place holds, kept as JSON so nobody changes it in place. */
interface Snapshot {
  version: number
  storeVersion: number
  epoch: string
  stateJson: string
  instancesJson: string
  /** The instances present, as JSON; absent when none was. */
  presentJson?: string
}

/** One storage open on a place: how far it has read the log, and whether it follows it yet. */
interface Reader {
  /** Entries of the whole log (past snapshots included) this storage's server has. */
  read: number
  following: boolean
  context: StorageContext
  /** Why its server could not take what others wrote: it writes no more. */
  refused?: IpcStateError
}

/**
 * A place in memory for storages to keep a store in: the storage contract's reference storage,
 * kept as real as a file or Redis storage (snapshots, a log after them, compare-and-append when
 * shared, what others wrote handed in once, in order), only not durable across processes.
 *
 * @example
 * ```ts
 * const place = memoryPlace()
 * await using server = await createServer({ store, storage: place.storage() })
 * ```
 * @throws TypeError when an option is invalid
 */
export function memoryPlace(options: MemoryPlaceOptions = {}): MemoryPlace {
  const shared = options.shared ?? false
  const snapshotEvery = options.snapshotEvery ?? 1_000
  if (!Number.isSafeInteger(snapshotEvery) || snapshotEvery < 1)
    throw new TypeError('snapshotEvery must be a whole number, 1 or more')
  const place = {
    snapshot: undefined as Snapshot | undefined,
    /** The entries after the snapshot, each as JSON. */
    log: [] as string[],
    /** Entries of the whole log that snapshots folded. */
    dropped: 0,
    /** The version the last change made. */
    version: 0,
    failing: 0,
    readers: new Set<Reader>(),
  }
  const head = () => place.dropped + place.log.length

  /** The store as the place holds it now, fresh objects the server may change. */
  const stored = (): StoredLog => {
    const snapshot = place.snapshot!
    return {
      epoch: snapshot.epoch,
      storeVersion: snapshot.storeVersion,
      version: snapshot.version,
      state: JSON.parse(snapshot.stateJson),
      instances: JSON.parse(snapshot.instancesJson),
      ...(snapshot.presentJson === undefined ? {} : { present: JSON.parse(snapshot.presentJson) }),
      entries: place.log.map((json) => JSON.parse(json) as StorageEntry),
    }
  }

  const keep = (image: StoreImage, storeVersion: number, epoch: string) => {
    place.dropped = head()
    place.log = []
    place.version = image.version
    place.snapshot = {
      version: image.version,
      storeVersion,
      epoch,
      stateJson: Buffer.from(image.stateJson).toString('utf8'),
      instancesJson: JSON.stringify(image.instances),
      ...(image.present === undefined || image.present.length === 0 ? {} : { presentJson: JSON.stringify(image.present) }),
    }
  }

  /** Hands each reader that follows what it has not read, in a later turn, as another server's storage would. */
  const handIn = (reader: Reader) => {
    if (!reader.following || !place.readers.has(reader) || reader.read === head()) return
    const updates: ExternalUpdate[] =
      reader.read < place.dropped
        ? [{ kind: 'reload', store: stored() }]
        : place.log.slice(reader.read - place.dropped).map((json) => JSON.parse(json) as StorageEntry)
    reader.read = head()
    try {
      reader.context.receive(updates)
    } catch (error) {
      reader.refused = new IpcStateError(
        ErrorCode.STORE_DAMAGED,
        `What another server wrote does not apply here: ${(error as Error).message}`,
        {
          data: { place: 'memory' },
        },
      )
      reader.following = false
    }
  }

  const storage = (): Storage => {
    let reader: Reader | undefined
    const closed = () => reader === undefined || !place.readers.has(reader)
    const follow = (log: StoredLog) => {
      let current = log.storeVersion
      for (const entry of log.entries) if (entry.kind === 'change') current = entry.storeVersion ?? current
      reader!.following = current === reader!.context.storeVersion
    }
    return {
      async open(context) {
        if (reader !== undefined) throw new TypeError('A memory storage serves one server: make a new one with place.storage()')
        if (!shared && place.readers.size > 0) {
          throw new IpcStateError(ErrorCode.STORE_LOCKED, 'Another server has this memory place open', { data: { shared } })
        }
        if (place.snapshot === undefined) {
          keep(
            { version: 0, stateJson: Buffer.from(context.initialStateJson), instances: [] },
            context.storeVersion,
            context.newEpoch,
          )
        }
        if (place.snapshot!.storeVersion > context.storeVersion) {
          throw new IpcStateError(
            ErrorCode.STORE_TOO_NEW,
            `The memory place holds a store of store version ${place.snapshot!.storeVersion}; this server runs ${context.storeVersion}`,
            { data: { stored: place.snapshot!.storeVersion, running: context.storeVersion } },
          )
        }
        reader = { read: head(), following: false, context }
        place.readers.add(reader)
        const log = stored()
        follow(log)
        return log
      },

      async migrate(image: MigratedImage) {
        if (closed()) throw new TypeError('The memory storage is not open')
        if (reader!.read !== head() || image.version !== place.version + 1) {
          // Another server wrote or migrated first: start over from what the place holds now.
          reader!.read = head()
          const log = stored()
          follow(log)
          return log
        }
        const { storeVersion, ...rest } = image
        keep(rest, storeVersion, place.snapshot!.epoch)
        reader!.read = head()
        reader!.following = true
        return undefined
      },

      // biome-ignore lint/suspicious/noConfusingVoidType: the signature of Storage.write
      async write(entries): Promise<void | WriteConflict> {
        if (closed()) throw new TypeError('The memory storage is not open')
        if (reader!.refused !== undefined) throw reader!.refused
        if (place.failing > 0) {
          throw new IpcStateError(ErrorCode.PERSIST_FAILED, 'The memory place was told to fail writes; nothing was written', {
            data: { place: 'memory' },
          })
        }
        const first = entries.find((entry) => entry.kind === 'change')
        if (shared && first !== undefined && first.version !== place.version + 1) {
          handIn(reader!)
          return { conflict: true }
        }
        // A snapshot folds only what every server has: none is handed a whole store for want of entries.
        if (place.log.length >= snapshotEvery && [...place.readers].every((each) => each.read === head())) {
          keep(reader!.context.image(), place.snapshot!.storeVersion, place.snapshot!.epoch)
        }
        // Kept as JSON, field by field as given: nothing the server holds is shared with the place.
        place.log.push(...entries.map((entry) => JSON.stringify(entry)))
        for (const entry of entries) if (entry.kind === 'change') place.version = entry.version
        // Its own entries need not come back; entries of others not read yet do, in a later turn.
        if (reader!.read === head() - entries.length) reader!.read = head()
        for (const each of place.readers) setImmediate(() => handIn(each))
      },

      async close() {
        if (reader !== undefined) place.readers.delete(reader)
      },
    }
  }

  return {
    storage,
    failWrites() {
      place.failing += 1
      let restored = false
      return () => {
        if (!restored) place.failing -= 1
        restored = true
      }
    },
  }
}
