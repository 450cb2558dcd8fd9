// The store's state in memory: runs an action on a draft, checks what it made, and commits it as a new version.
import { randomUUID } from 'node:crypto'
import type { StandardSchemaV1 } from '@standard-schema/spec'
import {
  Defaults,
  ErrorCode,
  IpcStateError,
  commitPatches,
  deepFreeze,
  type ActionContext,
  type ActionFunction,
  type ActionMap,
  type Patch,
  type StoreDefinition,
} from '@ipc-state/protocol'
import { freezeJson } from './frozen-json.js'
import { MAX_INPUT_VALUES, checkWithSchema } from './input-check.js'
import { nearestName } from './nearest-name.js'
import { runOnDraft } from './run-on-draft.js'
import { StateSize } from './state-size.js'

/** What one applied action produced. */
export interface AppliedAction {
  /** The action's result as JSON, `undefined` when it returned nothing. */
  valueJson: string | undefined
  version: number
  patches: Patch[]
  /** `patches` as JSON, encoded once for every replica. */
  patchesJson: string
  /** The state after the change: what {@link StoreRuntime.publish} serves once it is durable. */
  state: object
  /** At least `state`'s size in bytes of JSON. */
  stateBytes: number
}

/** Options for a {@link StoreRuntime}. */
export interface StoreRuntimeOptions {
  /**
   * The largest frame that carries the state, a change or an action result, in bytes: the JSON
   * plus `FRAME_ENVELOPE_BYTES` for the message around it (see StateSize).
   * @default Defaults.CLIENT_MAX_FRAME_BYTES (256 MiB), what a client accepts
   */
  maxStateBytes?: number
  /**
   * The most JSON values (every number, string, array, object… counted) an input checked by a
   * schema may hold. A schema reports an issue per bad value, and a library such as zod spends
   * about 500 bytes on each: a 13 MB array of numbers made it hold 740 MB before it answered.
   * @default 100000
   */
  maxInputValues?: number
  /** Called each time the state served moves to a new version (see {@link StoreRuntime.publish}). */
  onCommit?(version: number): void
}

/** A state, its version and the bound on its size. */
interface Versioned<S> {
  state: S
  version: number
  bytes: number
}

/**
 * Owns the state: runs actions one at a time against an immutable state, each producing the
 * patches it made and a new version. A throwing action leaves state and version untouched, and so
 * does one that would make the state, its change or its result larger than a client accepts.
 *
 * Two states: the working one actions run against, and the one served to clients, which moves to a
 * version only once its change is durable ({@link publish}). Without a storage they are the same
 * at every turn; with one, a failed write takes the working state back to the served one
 * ({@link rollback}).
 */
export class StoreRuntime<S extends object> {
  /**
   * The store's identity as clients know it: a new one whenever a server starts from nothing (or
   * from a storage that may have lost changes clients saw), so clients can tell a new store from a
   * reconnect.
   */
  epoch: string = randomUUID()
  #state: S
  #version = 0
  #served: Versioned<S>
  readonly #actions: ActionMap<S>
  /** The actions' names, for the suggestion an unknown name gets. */
  readonly #actionNames: readonly string[]
  readonly #inputs: Record<string, StandardSchemaV1 | undefined>
  readonly #onCommit: ((version: number) => void) | undefined
  readonly #maxInputValues: number
  /** Keeps the state, each change and each result within what a client accepts. */
  readonly #size: StateSize

  /** @throws TypeError when the initial state alone passes `maxStateBytes` */
  constructor(store: StoreDefinition<S, ActionMap<S>>, options: StoreRuntimeOptions = {}) {
    this.#onCommit = options.onCommit
    this.#maxInputValues = options.maxInputValues ?? MAX_INPUT_VALUES
    // A JSON round trip: the state must be what every replica will see after its own decode.
    const json = JSON.stringify(store.initialState)
    this.#size = new StateSize(options.maxStateBytes ?? Defaults.CLIENT_MAX_FRAME_BYTES, Buffer.byteLength(json))
    this.#state = deepFreeze(JSON.parse(json) as S)
    this.#served = { state: this.#state, version: 0, bytes: this.#size.bound }
    this.#actions = store.actions
    this.#actionNames = Object.keys(store.actions)
    this.#inputs = store.inputs as Record<string, StandardSchemaV1 | undefined>
  }

  /** The working state: the one actions run against, ahead of {@link served} while changes wait for the storage. */
  get state(): S {
    return this.#state
  }

  /** The version of the working {@link state}. */
  get version(): number {
    return this.#version
  }

  /** What clients are served: the state and version last published, replaced with each. */
  get served(): { readonly state: S; readonly version: number } {
    return this.#served
  }

  /**
   * Starts from a stored state (JSON-normalised here) at `version`, serving it at once. Given
   * `ownBytes`, at least the state's size in bytes of JSON, the state is parsed JSON that nobody
   * else holds, and is taken as it is while that fits.
   * @throws TypeError when the state passes `maxStateBytes`
   */
  restore(state: unknown, version: number, epoch: string, ownBytes?: number): void {
    if (ownBytes !== undefined && ownBytes <= this.#size.maxJsonBytes && freezeJson(state)) {
      this.#size.set(ownBytes, false)
      this.#state = state as S
    } else {
      const json = JSON.stringify(state)
      const bytes = Buffer.byteLength(json)
      if (bytes > this.#size.maxJsonBytes) {
        throw new TypeError(
          `The stored state is ${bytes} bytes of JSON, more than maxStateBytes allows (${this.#size.maxJsonBytes})`,
        )
      }
      this.#size.set(bytes, true)
      this.#state = deepFreeze(JSON.parse(json) as S)
    }
    this.#version = version
    this.epoch = epoch
    this.#served = { state: this.#state, version, bytes: this.#size.bound }
  }

  /** Serves the change an {@link apply} returned, once it is durable. */
  publish(applied: Pick<AppliedAction, 'version' | 'state' | 'stateBytes'>): void {
    if (applied.version <= this.#served.version) return
    this.#served = { state: applied.state as S, version: applied.version, bytes: applied.stateBytes }
    this.#onCommit?.(applied.version)
  }

  /**
   * Takes a change another server committed at `version`, the one after the served version, and
   * serves it at once. Only while no change of this server waits for the storage (the working state
   * is the served one), or right after a {@link rollback}.
   * @throws IpcStateError `INTERNAL_ERROR` when the change does not follow the served version or does not fit the state
   */
  follow(version: number, patches: Patch[], patchesJson: string): void {
    if (version !== this.#served.version + 1 || this.#version !== this.#served.version) {
      throw new IpcStateError(ErrorCode.INTERNAL_ERROR, `Change ${version} does not follow version ${this.#served.version}`)
    }
    const { state } = commitPatches(this.#served.state, patches)
    this.#state = state as S
    this.#version = version
    this.#served = { state: this.#state, version, bytes: this.#size.followed(patches, patchesJson) }
    this.#onCommit?.(version)
  }

  /** A write failed: actions run against the state served again, as if the later ones never ran. */
  rollback(): void {
    this.#state = this.#served.state
    this.#version = this.#served.version
    this.#size.set(this.#served.bytes, false)
  }

  /** At least the state's size in bytes of JSON (exact after the last full encode). */
  get stateBytesBound(): number {
    return this.#size.bound
  }

  /**
   * Own keys only: `toString` or `__proto__` are no actions. An unknown name is answered with the
   * nearest existing one in its message and `data.suggestion`, when one is near.
   */
  #requireAction(name: string): void {
    if (Object.hasOwn(this.#actions, name)) return
    const suggestion = nearestName(name, this.#actionNames)
    const guess = suggestion === undefined ? '' : ` (did you mean ${JSON.stringify(suggestion)}?)`
    throw new IpcStateError(ErrorCode.UNKNOWN_ACTION, `The store has no action ${JSON.stringify(name)}${guess}`, {
      data: suggestion === undefined ? { action: name } : { action: name, suggestion },
    })
  }

  /**
   * Checks `input` against the action's schema, if it has one, and returns the schema's output.
   * @throws IpcStateError `UNKNOWN_ACTION`, `BAD_ARGUMENTS` (also when the input holds more than
   *   `maxInputValues` values: the schema does not see it then)
   */
  checkInput(name: string, input: unknown): unknown {
    this.#requireAction(name)
    // Own keys only: an action named `toString` has no schema unless one was given for it.
    const schema = Object.hasOwn(this.#inputs, name) ? this.#inputs[name] : undefined
    if (schema === undefined) return input
    return checkWithSchema(name, schema, input, this.#maxInputValues)
  }

  /**
   * Runs action `name` and commits its change. Every value the action wrote is stored as JSON
   * carries it (see `commitPatches`), so the state here is the state every replica computes from
   * the returned patches.
   * @throws IpcStateError `UNKNOWN_ACTION`, or `ACTION_FAILED` when the action throws, returns a
   *   promise, writes a value JSON cannot hold (a BigInt, a cycle), adds a property to
   *   `Object.prototype` or `Array.prototype` (removed again), makes an array more than
   *   `MAX_NEW_HOLES` items longer in one write, or would make the state, its change or its result
   *   larger than `maxStateBytes`; nothing is committed then.
   */
  apply(name: string, input: unknown, caller: { clientId: string; instanceId: string }): AppliedAction {
    this.#requireAction(name)
    const action = this.#actions[name] as ActionFunction<S>
    return this.#run(`Action ${JSON.stringify(name)}`, action, input, caller, false)
  }

  /**
   * Runs a presence hook of the store (`onClientJoin`, `onClientLeave`; none when the store has not
   * defined it) with `event`, as the server's own change, and commits it as a new version even when
   * it changes nothing: the join or leave it records is stored once, in the one total order.
   * @throws IpcStateError `ACTION_FAILED` as {@link apply} does; nothing is committed then
   */
  applyHook(name: string, hook: ActionFunction<S> | undefined, event: unknown): AppliedAction {
    return this.#run(`Hook ${name}`, hook ?? (() => undefined), event, { clientId: '', instanceId: '' }, true)
  }

  #run(
    label: string,
    action: ActionFunction<S>,
    input: unknown,
    caller: { clientId: string; instanceId: string },
    alwaysVersion: boolean,
  ): AppliedAction {
    const context: ActionContext = Object.freeze({
      clientId: caller.clientId,
      instanceId: caller.instanceId,
      version: this.#version,
      now: Date.now(),
    })
    const failed = (why: string, cause?: unknown) =>
      new IpcStateError(ErrorCode.ACTION_FAILED, `${label} ${why}`, cause === undefined ? {} : { cause })
    const { next, patches, valueJson } = runOnDraft(this.#state, (draft) => action(draft, input, context), failed)
    if (valueJson !== undefined) this.#size.checkResult(valueJson, failed)
    // An action that changed nothing does not make a version: replicas have nothing to apply.
    if (patches.length === 0) return this.#unchanged(valueJson, alwaysVersion)
    let committed: { state: S; patches: Patch[]; patchesJson: string; stateBytes: number }
    try {
      committed = this.#commit(next, patches, failed)
    } catch (error) {
      if (error instanceof IpcStateError) throw error
      throw failed(`put a value into the state that JSON cannot hold: ${(error as Error).message}`, error)
    }
    // Writing undefined where nothing was leaves nothing to send.
    if (committed.patches.length === 0) return this.#unchanged(valueJson, alwaysVersion)
    this.#state = committed.state
    this.#size.bound = committed.stateBytes
    this.#version += 1
    return {
      valueJson,
      version: this.#version,
      patches: committed.patches,
      patchesJson: committed.patchesJson,
      state: this.#state,
      stateBytes: committed.stateBytes,
    }
  }

  /** What a run that changed nothing made: no version, or an empty one when it must make one. */
  #unchanged(valueJson: string | undefined, makeVersion: boolean): AppliedAction {
    if (makeVersion) this.#version += 1
    return { valueJson, version: this.#version, patches: [], patchesJson: '[]', state: this.#state, stateBytes: this.#size.bound }
  }

  /**
   * The new state as replicas will compute it, the patches (and their JSON) that get them there,
   * and the state's size bound after it.
   * @throws IpcStateError `ACTION_FAILED` when the state or the change would pass the limit
   * @throws TypeError when a value cannot be JSON
   */
  #commit(next: S, patches: Patch[], failed: (why: string) => IpcStateError) {
    let state: S
    try {
      ;({ state, patches } = commitPatches(this.#state, patches))
    } catch (error) {
      if (!(error instanceof IpcStateError)) throw error
      // The library made a patch that does not fit its own base: send the whole state instead.
      state = deepFreeze(JSON.parse(JSON.stringify(next)) as S)
      patches = [{ op: 'replace', path: [], value: state }]
    }
    if (patches.length === 0) return { state, patches, patchesJson: '[]', stateBytes: this.#size.bound }
    return { state, ...this.#size.fit(this.#state, state, patches, failed) }
  }
}
