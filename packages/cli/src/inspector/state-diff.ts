// The patches between two states, for showing a change to a person.
import type { Patch, PatchPath } from '@ipc-state/protocol'

/** What {@link diffStates} found: the patches, and how many more were left out. */
export interface StateDiff {
  patches: Patch[]
  /** Patches past `maxPatches`, counted but not listed. */
  more: number
}

/** Patches a change shows at most; the rest are counted. */
export const MAX_PATCHES = 50

/**
 * The patches that turn `before` into `after`, for showing a change to a person: plain objects
 * key by key, arrays index by index, anything else replaced whole. A replica keeps the identity of
 * the parts a change left alone, so this walks only the changed branches.
 *
 * @param maxPatches patches listed at most; the rest are counted in `more`
 * @default maxPatches 50
 */
export function diffStates(before: unknown, after: unknown, maxPatches = MAX_PATCHES): StateDiff {
  const patches: Patch[] = []
  let more = 0
  const emit = (patch: Patch): void => {
    if (patches.length < maxPatches) patches.push(patch)
    else more += 1
  }
  const walk = (path: PatchPath, a: unknown, b: unknown): void => {
    if (Object.is(a, b)) return
    if (Array.isArray(a) && Array.isArray(b)) {
      const shared = Math.min(a.length, b.length)
      for (let i = 0; i < shared; i++) walk([...path, i], a[i], b[i])
      for (let i = shared; i < b.length; i++) emit({ op: 'add', path: [...path, i], value: b[i] })
      // From the end, so each index is still right when the one before it goes.
      for (let i = a.length - 1; i >= shared; i--) emit({ op: 'remove', path: [...path, i] })
      return
    }
    if (isPlainObject(a) && isPlainObject(b)) {
      for (const key of Object.keys(a)) if (!Object.hasOwn(b, key)) emit({ op: 'remove', path: [...path, key] })
      for (const [key, value] of Object.entries(b)) {
        if (Object.hasOwn(a, key)) walk([...path, key], a[key], value)
        else emit({ op: 'add', path: [...path, key], value })
      }
      return
    }
    emit({ op: 'replace', path, value: b })
  }
  walk([], before, after)
  return { patches, more }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const prototype = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
}
