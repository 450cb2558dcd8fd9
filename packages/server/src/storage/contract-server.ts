// The server as the storage contract's cases play it: it opens a storage, writes batches, replays what comes back and takes in what others wrote.
import { deepStrictEqual, equal, ok } from 'node:assert/strict'
import { ErrorCode, IpcStateError } from '@ipc-state/protocol'
import { type ReplayOptions, type ReplayedStore, replayLog } from './replay-log.js'
import type {
  ExternalUpdate,
  PresentInstance,
  Storage,
  StorageContext,
  StorageEntry,
  StoredInstance,
  StoredLog,
  WriteConflict,
} from './storage.js'

/** The store the cases keep: a counter and a list, so each change has a shape to check. */
export const CONTRACT_STATE = { count: 0, items: [] as string[] }

/** A change that makes `version`: the counter set to `version`, and `item` added to the list. */
export type ContractChange = Extract<StorageEntry, { kind: 'change' }>

/**
 * One server, played by the cases: it replays what its storage hands back as a server does (see
 * `replayLog`), writes one batch at a time (or several, as the storage lets it), takes in what others
 * wrote, and notes any misuse of the context it can see (a snapshot taken outside a write or close,
 * or while several writes are under way; an entry handed in twice).
 */
export class ContractServer {
  readonly storage: Storage
  readonly #options: ReplayOptions
  state: Record<string, unknown> = structuredClone(CONTRACT_STATE)
  version = 0
  storeVersion = 1
  epoch = ''
  instances: StoredInstance[] = []
  /** The client instances present, as the changes' presence marks made them. */
  present: PresentInstance[] = []
  /** Entries other servers wrote, as they were handed in, in order. */
  readonly received: StorageEntry[] = []
  /** Whole stores handed in because the entries after this server's version were gone. */
  reloads = 0
  /** What the storage did that the contract forbids, as it was seen. */
  readonly misuse: string[] = []
  #writing = false
  /** Writes under way at once, in {@link writeAtOnce}. */
  #underWay = 0
  #closing = false
  /** What was handed in while a write was under way: applied once it settled, as the server does. */
  #pending: ExternalUpdate[] = []
  readonly #waiters = new Set<() => void>()

  constructor(storage: Storage, storeVersion = 1) {
    this.storage = storage
    this.#options = { answersKept: 1_000, storeVersion, initialState: structuredClone(CONTRACT_STATE) }
  }

  /** Opens the storage (and nothing more): the log it hands back, replayed into this server. */
  async open(newEpoch: string = globalThis.crypto.randomUUID(), maxEntryBytes = 1024 * 1024): Promise<StoredLog> {
    const checked = new WeakMap<StoredLog, ReplayedStore>()
    const context: StorageContext = {
      storeVersion: this.#options.storeVersion,
      maxEntryBytes,
      initialStateJson: JSON.stringify(CONTRACT_STATE),
      newEpoch,
      logger: {},
      check: (log) => void checked.set(log, replayLog(log, this.#options)),
      image: () => {
        if (!this.#writing && !this.#closing) this.misuse.push('image() was called outside write() and close()')
        if (this.#underWay > 1) this.misuse.push('image() was called while several writes were under way')
        return {
          version: this.version,
          stateJson: Buffer.from(JSON.stringify(this.state)),
          instances: structuredClone(this.instances),
          ...(this.present.length === 0 ? {} : { present: structuredClone(this.present) }),
        }
      },
      receive: (updates) => this.#receive(updates),
    }
    const log = await this.storage.open(context)
    this.#take(checked.get(log) ?? replayLog(log, this.#options), log.epoch)
    return log
  }

  /** The store as a storage hands it back, replayed. */
  replay(log: StoredLog): ReplayedStore {
    return replayLog(log, this.#options)
  }

  /** Keeps `state` as the migration of what `open` handed back; takes in the store the storage hands back instead. */
  async migrate(state: Record<string, unknown>): Promise<StoredLog | undefined> {
    const image = {
      version: this.version + 1,
      storeVersion: this.#options.storeVersion,
      stateJson: Buffer.from(JSON.stringify(state)),
      instances: structuredClone(this.instances),
    }
    const again = await this.storage.migrate(image)
    if (again === undefined)
      this.#take({ state, version: image.version, storeVersion: image.storeVersion, instances: image.instances }, this.epoch)
    else this.#take(this.replay(again), again.epoch)
    return again
  }

  /** The change this server makes next: the counter set to its version, `item` added, answered with `valueJson`. */
  change(instanceId: string, id: number, item: string, valueJson?: string): ContractChange {
    return this.changes([{ instanceId, id, item, valueJson }])[0]!
  }

  /** Changes one after the other from this server's version, each made like {@link change}. */
  changes(
    calls: { instanceId: string; id: number; item: string; valueJson?: string; action?: string; clientId?: string }[],
  ): ContractChange[] {
    let version = this.version
    let length = (this.state.items as string[]).length
    return calls.map(({ instanceId, id, item, valueJson, action, clientId }) => {
      version += 1
      const patches = [
        { op: 'replace', path: ['count'], value: version },
        { op: 'add', path: ['items', length++], value: item },
      ]
      const attribution = { ...(action === undefined ? {} : { action }), ...(clientId === undefined ? {} : { clientId }) }
      return { kind: 'change', version, patchesJson: JSON.stringify(patches), instanceId, id, valueJson, ...attribution }
    })
  }

  /** Writes `entries` as the server does, and applies them once written; what was handed in meanwhile after them. */
  async write(entries: StorageEntry[]): Promise<WriteConflict | undefined> {
    this.#writing = true
    let result: WriteConflict | undefined
    try {
      result = (await this.storage.write(entries)) ?? undefined
    } catch (error) {
      this.#settled()
      throw error
    }
    this.#writing = false
    if (result === undefined) this.#apply(entries)
    this.#settled()
    return result
  }

  /**
   * Writes `batches` as the server does when the storage takes several writes at once: each called
   * once {@link Storage.writesAtOnce} (asked right before) lets one more be under way, without
   * waiting for the earlier ones; applies, in order, those written before the first that was not.
   * @returns what each write resolved with, in order
   */
  async writeAtOnce(batches: StorageEntry[][]): Promise<(WriteConflict | undefined)[]> {
    const results: (WriteConflict | undefined)[] = []
    let underWay: { batch: StorageEntry[]; written: Promise<WriteConflict | undefined> }[] = []
    const settle = async () => {
      for (const { batch, written } of underWay) {
        const result = await written
        if (result === undefined && results.every((earlier) => earlier === undefined)) this.#apply(batch)
        results.push(result)
        this.#underWay -= 1
      }
      underWay = []
    }
    this.#writing = true
    try {
      for (const batch of batches) {
        if (underWay.length >= Math.max(1, this.storage.writesAtOnce?.() ?? 1)) await settle()
        const written = this.storage.write(batch).then((result) => result ?? undefined)
        // Each is awaited in turn: a later one that fails must not go unheard meanwhile.
        written.catch(() => undefined)
        this.#underWay += 1
        underWay.push({ batch, written })
      }
      await settle()
    } finally {
      this.#underWay = 0
      this.#settled()
    }
    return results
  }

  async close(): Promise<void> {
    this.#closing = true
    await this.storage.close()
  }

  #settled(): void {
    this.#writing = false
    this.#receive(this.#pending.splice(0))
  }

  /** Resolves once this server is at `version` or past it. */
  async reached(version: number): Promise<void> {
    while (this.version < version) await new Promise<void>((resolve) => this.#waiters.add(resolve))
  }

  #take(
    store: Pick<ReplayedStore, 'state' | 'version' | 'storeVersion' | 'instances'> & { present?: PresentInstance[] },
    epoch: string,
  ): void {
    this.present = store.present ?? this.present
    this.state = store.state
    this.version = store.version
    this.storeVersion = store.storeVersion
    this.instances = store.instances
    this.epoch = epoch
  }

  #apply(entries: readonly StorageEntry[]): void {
    const log = {
      epoch: this.epoch,
      storeVersion: this.storeVersion,
      version: this.version,
      state: this.state,
      instances: this.instances,
      present: this.present,
    }
    this.#take(replayLog({ ...log, entries: [...entries] }, this.#options), this.epoch)
    for (const wake of this.#waiters) wake()
    this.#waiters.clear()
  }

  #receive(updates: readonly ExternalUpdate[]): void {
    if (this.#writing || this.#closing) {
      this.#pending.push(...updates)
      return
    }
    for (const update of updates) {
      if (update.kind === 'reload') {
        this.reloads += 1
        const store = this.replay(update.store)
        if (store.version > this.version) this.#take(store, this.epoch)
        continue
      }
      this.received.push(structuredClone(update))
      // This server's own changes may come back: those it has are skipped.
      if (update.kind === 'change' && update.version <= this.version) continue
      if (update.kind === 'change' && update.version !== this.version + 1) {
        throw new IpcStateError(ErrorCode.STORE_DAMAGED, `handed version ${update.version} at version ${this.version}`)
      }
      this.#apply([update])
    }
    for (const wake of this.#waiters) wake()
    this.#waiters.clear()
  }
}

/** Writes `batches` batches: a client record now and then, and changes of three instances, some answered with nothing, some two to a batch. */
export async function writeSome(server: ContractServer, batches: number, tag = 'w'): Promise<StorageEntry[]> {
  const written: StorageEntry[] = []
  for (let n = 0; n < batches; n++) {
    const instanceId = `${tag}-${n % 3}`
    const batch: StorageEntry[] = n < 3 ? [{ kind: 'instance', instanceId, since: n }] : []
    const call = { instanceId, action: 'add', clientId: tag }
    const calls = [{ ...call, id: 10 + 2 * n, item: `${tag}${n}`, valueJson: n % 4 === 0 ? undefined : JSON.stringify({ n, tag }) }]
    if (n % 5 === 0) calls.push({ ...call, id: 11 + 2 * n, item: `${tag}${n}+`, valueJson: '"second"' })
    batch.push(...server.changes(calls))
    equal(await server.write(batch), undefined, `batch ${n} was written`)
    written.push(...batch)
  }
  return written
}

/** What a change must come back with: the attribution only from a storage servers share. */
export function fieldsOf(entry: ContractChange, shared = false) {
  const { kind, version, instanceId, id, valueJson, action, clientId } = entry
  const fields = { kind, version, patches: JSON.parse(entry.patchesJson), instanceId, id, valueJson }
  return shared ? { ...fields, action, clientId } : fields
}

/** `server` replayed to the store `expected` wrote: the same state, version and answers. */
export function sameStore(server: ContractServer, expected: ContractServer): void {
  deepStrictEqual(server.state, expected.state, 'the same state')
  equal(server.version, expected.version, 'the same version')
  const answers = (of: ContractServer) =>
    Object.fromEntries(of.instances.map((instance) => [instance.instanceId, instance.answers.map((a) => ({ ...a }))]))
  deepStrictEqual(answers(server), answers(expected), 'the same answers, with their versions and values')
}

/** Resolves once `promise` rejected with an `IpcStateError` of `code`. */
export async function refusedWith(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (thrown: unknown) => thrown,
  )
  ok(error instanceof IpcStateError, `refused with an IpcStateError, not ${String(error)}`)
  equal(error.code, code)
}
