// The storage in a data folder: its folder read back as a log at start-up, then written through a journal writer.
import { lstat } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '@ipc-state/protocol'
import { listFolder, lockDataFolder, prepareDataFolder, snapshotPath } from './data-folder.js'
import {
  type FileStorageOptions,
  type FileStorageSettings,
  type FsyncMode,
  parseFileStorageOptions,
} from './file-storage-options.js'
import { DiskReserve } from './disk-reserve.js'
import { damaged } from './journal-format.js'
import { type Recovered, placeOf, readFolder } from './folder-log.js'
import { JournalWriter } from './journal-writer.js'
import { cutTornTail, journalBytes, keepsEpoch, removeFiles, removeTemporaries } from './start-up-recovery.js'
import type { MigratedImage, Storage, StorageContext, StorageEntry, StoredInstance, StoredLog } from '../storage.js'

/** Journal segments after a snapshot past which the first write takes a new snapshot, however short they are. */
const MAX_SEGMENTS = 8

/**
 * A storage in a data folder: an append-only journal of changes (and the records of answered
 * calls), and snapshots of the whole store written atomically, after which older journal segments
 * are deleted. See the server README's "Persistence" for the files and what each mode promises.
 *
 * @example
 * ```ts
 * const server = await createServer({ store, storage: fileStorage({ dir: './data', fsync: 'always' }) })
 * ```
 * @throws TypeError when an option is invalid
 */
export function fileStorage(options: FileStorageOptions): Storage {
  const { dir, fsync, ...limits } = parseFileStorageOptions(options)
  return new FileStorage(dir, fsync, limits)
}

class FileStorage implements Storage {
  readonly #dir: string
  readonly #fsync: FsyncMode
  readonly #limits: Pick<FileStorageSettings, 'fsyncInterval' | 'compactBytes'>
  #opened = false
  #logger: Logger = {}
  #unlock: (() => Promise<void>) | undefined
  #writer: JournalWriter | undefined

  constructor(dir: string, fsync: FsyncMode, limits: Pick<FileStorageSettings, 'fsyncInterval' | 'compactBytes'>) {
    this.#dir = dir
    this.#fsync = fsync
    this.#limits = limits
  }

  async open(context: StorageContext): Promise<StoredLog> {
    if (this.#opened) throw new TypeError('A fileStorage serves one server: make a new one for each createServer')
    this.#opened = true
    this.#logger = context.logger
    await prepareDataFolder(this.#dir)
    this.#unlock = await lockDataFolder(this.#dir, this.#logger)
    try {
      const reserve = new DiskReserve(join(this.#dir, 'store.reserve'))
      await reserve.load()
      const files = await listFolder(this.#dir)
      const recovered = await readFolder(this.#dir, files, context.storeVersion)
      const empty = recovered.state === undefined
      const epoch = keepsEpoch(recovered, this.#logger) ? recovered.epoch! : context.newEpoch
      const log = empty ? undefined : logOf(recovered, epoch)
      if (log !== undefined) context.check(log)
      // Only once the folder was found sound: a start that refuses it leaves every file as it was.
      await removeTemporaries(this.#dir, this.#logger)
      await cutTornTail(this.#dir, recovered, files, this.#logger)
      const seq = Math.max(files.journals.at(-1) ?? 0, files.snapshots.at(-1) ?? 0) + 1
      // A new folder starts with a snapshot of the initial state: the journal's changes apply to it.
      const image = empty
        ? { version: recovered.version, stateJson: Buffer.from(context.initialStateJson), instances: instancesOf(recovered) }
        : undefined
      let sinceSnapshot = 0
      if (!empty) {
        await removeFiles(this.#dir, recovered.obsolete)
        sinceSnapshot = await journalBytes(this.#dir, files, recovered)
        // Many starts left many short segments: the first write folds them into a snapshot.
        if (files.journals.length - recovered.obsolete.journals.length >= MAX_SEGMENTS) {
          sinceSnapshot = Math.max(sinceSnapshot, this.#limits.compactBytes)
        }
      }
      const storeVersion = empty ? context.storeVersion : recovered.storeVersion
      this.#writer = new JournalWriter(
        { dir: this.#dir, fsync: this.#fsync, limits: this.#limits, logger: this.#logger, image: context.image },
        reserve,
        { next: { seq, version: recovered.head, image }, epoch, storeVersion, sinceSnapshot },
      )
      const newest = files.snapshots.at(-1)
      const snapshotBytes =
        newest === undefined ? 0 : (await lstat(snapshotPath(this.#dir, newest)).catch(() => ({ size: 0 }))).size
      await this.#writer.start(Math.max(snapshotBytes, Buffer.byteLength(context.initialStateJson)))
      return (
        log ?? {
          epoch,
          storeVersion,
          version: recovered.version,
          state: JSON.parse(context.initialStateJson),
          instances: image!.instances,
          entries: [],
        }
      )
    } catch (error) {
      await this.#release()
      throw error
    }
  }

  async migrate(image: MigratedImage): Promise<undefined> {
    const { storeVersion, ...store } = image
    await this.#writer!.restartAt(store, storeVersion)
    return undefined
  }

  writesAtOnce(): number {
    return this.#writer!.writesAtOnce()
  }

  write(entries: readonly StorageEntry[]): Promise<void> {
    return this.#writer!.write(entries)
  }

  async close(): Promise<void> {
    await this.#writer?.close()
    await this.#release()
  }

  async #release(): Promise<void> {
    await this.#writer?.release()
    await this.#unlock?.()
    this.#unlock = undefined
  }
}

/** The log a folder holds, each entry's damage named at its file and offset. */
function logOf(recovered: Recovered, epoch: string): StoredLog {
  const { storeVersion, version, state, stateBytes, instances, present, entries, snapshot } = recovered
  return {
    epoch,
    storeVersion,
    version,
    state,
    ...(stateBytes === undefined ? {} : { stateBytes }),
    instances,
    ...(present.length === 0 ? {} : { present }),
    entries,
    damaged: (at, what) => {
      const place = at === 'snapshot' ? snapshot! : placeOf(recovered, at)
      return damaged(place.file, place.offset, what)
    },
  }
}

/** The client records of a folder that holds no snapshot: a first snapshot keeps them. */
function instancesOf({ entries }: Recovered): StoredInstance[] {
  const instances = new Map<string, StoredInstance>()
  for (const entry of entries) {
    if (entry.kind === 'instance')
      instances.set(entry.instanceId, { instanceId: entry.instanceId, since: entry.since, forgotten: -1, answers: [] })
  }
  return [...instances.values()]
}
