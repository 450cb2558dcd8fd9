import { randomUUID } from 'node:crypto'
import { create } from 'mutative'
import type { StandardSchemaV1 } from '@standard-schema/spec'
import {
  ErrorCode,
  IpcStateError,
  commitPatches,
  deepFreeze,
  type ActionFunction,
  type ActionMap,
  type Patch,
  type StoreDefinition,
} from '@ipc-state/protocol'

/** What one applied action produced. */
export interface AppliedAction {
  /** The action's result as JSON, `undefined` when it returned nothing. */
  valueJson: string | undefined
  version: number
  patches: Patch[]
  /** `patches` as JSON, encoded once for every replica. */
  patchesJson: string
}

/** At most this many schema issues go back to the caller: a huge bad input must not make a huger answer. */
const MAX_ISSUES = 20
/** Each issue's message and path segment is cut to this many characters. */
const MAX_ISSUE_TEXT = 200

const cut = (text: string): string => (text.length > MAX_ISSUE_TEXT ? `${text.slice(0, MAX_ISSUE_TEXT)}…` : text)

/** A schema issue as it is sent to the caller: its message and the path to the bad part. */
const wireIssue = (issue: StandardSchemaV1.Issue) => ({
  message: cut(String(issue.message)),
  path: issue.path?.slice(0, 32).map((part) => {
    const key = typeof part === 'object' ? part.key : part
    return typeof key === 'string' ? cut(key) : typeof key === 'number' ? key : cut(String(key))
  }),
})

function describeIssues(issues: ReturnType<typeof wireIssue>[]): string {
  return issues
    .slice(0, 5)
    .map(({ message, path }) => (path?.length ? `${path.join('.')}: ${message}` : message))
    .join('; ')
}

const isThenable = (value: unknown): boolean =>
  value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function'

/**
 * Owns the state: runs actions one at a time against an immutable state, each producing the
 * patches it made and a new version. A throwing action leaves state and version untouched.
 */
export class StoreRuntime<S extends object> {
  /** Changes whenever a server starts, so clients can tell a restart from a reconnect. */
  readonly epoch = randomUUID()
  #state: S
  #version = 0
  readonly #actions: ActionMap<S>
  readonly #inputs: Record<string, StandardSchemaV1 | undefined>

  constructor(store: StoreDefinition<S, ActionMap<S>>) {
    // A JSON round trip: the state must be what every replica will see after its own decode.
    this.#state = deepFreeze(JSON.parse(JSON.stringify(store.initialState)) as S)
    this.#actions = store.actions
    this.#inputs = store.inputs as Record<string, StandardSchemaV1 | undefined>
  }

  get state(): S {
    return this.#state
  }

  get version(): number {
    return this.#version
  }

  /** Own keys only: `toString` or `__proto__` are no actions. */
  #requireAction(name: string): void {
    if (!Object.hasOwn(this.#actions, name)) {
      throw new IpcStateError(ErrorCode.UNKNOWN_ACTION, `The store has no action ${JSON.stringify(name)}`)
    }
  }

  /**
   * Checks `input` against the action's schema, if it has one, and returns the schema's output.
   * @throws IpcStateError `UNKNOWN_ACTION`, `BAD_ARGUMENTS`
   */
  checkInput(name: string, input: unknown): unknown {
    this.#requireAction(name)
    // Own keys only: an action named `toString` has no schema unless one was given for it.
    const schema = Object.hasOwn(this.#inputs, name) ? this.#inputs[name] : undefined
    if (schema === undefined) return input
    const result = schema['~standard'].validate(input)
    const settle = (outcome: StandardSchemaV1.Result<unknown>): unknown => {
      if (outcome.issues === undefined) return outcome.value
      const issues = outcome.issues.slice(0, MAX_ISSUES).map(wireIssue)
      const more = outcome.issues.length - issues.length
      throw new IpcStateError(
        ErrorCode.BAD_ARGUMENTS,
        `Invalid input for action ${JSON.stringify(name)}: ${describeIssues(issues)}` +
          (more > 0 ? ` (and ${more} more issues)` : ''),
        { data: more > 0 ? { issues, more } : { issues } },
      )
    }
    return result instanceof Promise ? result.then(settle) : settle(result)
  }

  /**
   * Runs action `name` and commits its change. Every value the action wrote is stored as JSON
   * carries it (see `commitPatches`), so the state here is the state every replica computes from
   * the returned patches.
   * @throws IpcStateError `UNKNOWN_ACTION`, or `ACTION_FAILED` when the action throws, returns a
   *   promise, or writes a value JSON cannot hold (a BigInt, a cycle); nothing is committed then.
   */
  apply(name: string, input: unknown, clientId: string): AppliedAction {
    this.#requireAction(name)
    const action = this.#actions[name] as ActionFunction<S>
    const context = Object.freeze({ clientId, version: this.#version })
    let value: unknown
    let valueJson: string | undefined
    let next: S
    let patches: Patch[]
    const failed = (why: string, cause?: unknown) =>
      new IpcStateError(ErrorCode.ACTION_FAILED, `Action ${JSON.stringify(name)} ${why}`, cause === undefined ? {} : { cause })
    try {
      ;[next, patches] = create(
        this.#state,
        (draft) => {
          value = action(draft as S, input, context)
          // Encoded here, while drafts are alive: a result may hold parts of the draft.
          if (!isThenable(value)) valueJson = JSON.stringify(value)
          // Returning nothing tells the library the draft is the new state.
        },
        { enablePatches: true },
      ) as unknown as [S, Patch[]]
    } catch (error) {
      throw failed(`failed: ${error instanceof Error ? error.message : String(error)}`, error)
    }
    if (isThenable(value)) throw failed('returned a promise; actions must be synchronous')
    // An action that changed nothing does not make a version: replicas have nothing to apply.
    if (patches.length === 0) return { valueJson, version: this.#version, patches, patchesJson: '[]' }
    let committed: { state: S; patches: Patch[] }
    try {
      committed = this.#commit(next, patches)
    } catch (error) {
      throw failed(`put a value into the state that JSON cannot hold: ${(error as Error).message}`, error)
    }
    // Writing undefined where nothing was leaves nothing to send.
    if (committed.patches.length === 0) return { valueJson, version: this.#version, patches: [], patchesJson: '[]' }
    const patchesJson = JSON.stringify(committed.patches)
    this.#state = committed.state
    this.#version += 1
    return { valueJson, version: this.#version, patches: committed.patches, patchesJson }
  }

  /** The new state as replicas will compute it, and the patches that get them there. */
  #commit(next: S, patches: Patch[]): { state: S; patches: Patch[] } {
    try {
      return commitPatches(this.#state, patches)
    } catch (error) {
      if (!(error instanceof IpcStateError)) throw error
      // The library made a patch that does not fit its own base: send the whole state instead.
      const value = JSON.parse(JSON.stringify(next)) as S
      return { state: deepFreeze(value), patches: [{ op: 'replace', path: [], value }] }
    }
  }
}
