// Runs an action on a draft of the state, and checks what it did before anything is committed.
import type { IpcStateError, Patch } from '@ipc-state/protocol'
import { diffStates } from './diff-states.js'
import { createDraft, prototypeKeys, removeNewPrototypeKeys } from './draft-guard.js'

/** What an action made of the state: the next state, the patches to it, and its result as JSON. */
export interface DraftRun<S> {
  next: S
  patches: Patch[]
  /** The result as JSON, `undefined` when it returned nothing. */
  valueJson: string | undefined
}

const isThenable = (value: unknown): boolean =>
  value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function'

/**
 * Runs `run` on a draft of `state` (which it never changes) and returns what it made.
 * @throws IpcStateError made by `failed` when `run` throws, returns a promise, or adds a property
 *   to `Object.prototype` or `Array.prototype` (removed again first)
 */
export function runOnDraft<S extends object>(
  state: S,
  run: (draft: S) => unknown,
  failed: (why: string, cause?: unknown) => IpcStateError,
): DraftRun<S> {
  let value: unknown
  let valueJson: string | undefined
  let next: S
  let patches: Patch[]
  const prototypes = prototypeKeys()
  try {
    next = createDraft(state, (draft) => {
      value = run(draft)
      // Encoded here, while drafts are alive: a result may hold parts of the draft.
      if (!isThenable(value)) valueJson = JSON.stringify(value)
      // Returning nothing tells the library the draft is the new state.
    })
    // Found from what the library shares with the state: cheaper than its own patches, and as few.
    patches = diffStates(state, next)
  } catch (error) {
    checkPrototypes(prototypes, failed)
    throw failed(`failed: ${error instanceof Error ? error.message : String(error)}`, error)
  }
  checkPrototypes(prototypes, failed)
  if (isThenable(value)) throw failed('returned a promise; actions must be synchronous')
  return { next, patches, valueJson }
}

/**
 * Drafts never hand out a prototype, but an object an action made itself does (`{}['__proto__']`):
 * whatever it added to `Object.prototype` or `Array.prototype` is removed, and the action fails.
 */
function checkPrototypes(before: readonly string[], failed: (why: string) => IpcStateError): void {
  const added = removeNewPrototypeKeys(before)
  if (added.length > 0) {
    throw failed(`wrote ${added.map((key) => JSON.stringify(key)).join(', ')} into a built-in prototype (removed again)`)
  }
}
