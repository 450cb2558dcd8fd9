// The patches between two versions of the state, at the cost of what changed rather than of the state.
import type { Patch, PatchPath } from '@ipc-state/protocol'

/** A plain object: what JSON makes and the draft library drafts. A Date, a Map or a class instance is a value. */
const isObject = (value: unknown): value is Record<string, unknown> => {
  if (typeof value !== 'object' || value === null) return false
  const prototype = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
}

/**
 * The patches that turn `base` into `next`, where `next` shares every part an action did not touch
 * with `base` (as the draft library makes it): only what differs by identity is visited, so the
 * cost is that of what changed, not of the state. Objects get a patch per key added, removed or
 * replaced; a container changed inside is visited rather than replaced.
 *
 * Arrays get the fewest patches found cheaply: the common start is kept, the items removed before
 * the next common run go as removals from the front of the rest (what `shift` does), the common
 * run is kept, and the rest is written over, item by item. A capped log's `push` then `shift` on
 * 10,000 items is one removal and one addition, where the draft library's own patches rewrite every
 * later index, one patch each (and take milliseconds to make). Removals that would move more than
 * {@link MAX_REMOVAL_MOVES} items in all give way to the whole array, so no change costs the
 * square of an array's length to apply.
 */
export function diffStates(base: unknown, next: unknown): Patch[] {
  const patches: Patch[] = []
  diff(base, next, [], patches)
  return patches
}

function diff(before: unknown, after: unknown, path: PatchPath, out: Patch[]): void {
  if (Object.is(before, after)) return
  if (isObject(before) && isObject(after)) diffObjects(before, after, path, out)
  else if (Array.isArray(before) && Array.isArray(after)) diffArrays(before, after, path, out)
  else out.push({ op: 'replace', path, value: after })
}

function diffObjects(before: Record<string, unknown>, after: Record<string, unknown>, path: PatchPath, out: Patch[]): void {
  for (const key of Object.keys(before)) {
    if (Object.hasOwn(after, key)) diff(before[key], after[key], [...path, key], out)
    else out.push({ op: 'remove', path: [...path, key] })
  }
  for (const key of Object.keys(after)) {
    if (!Object.hasOwn(before, key)) out.push({ op: 'add', path: [...path, key], value: after[key] })
  }
}

/** Whether `a` and `b` are containers of one kind, so a change between them is diffed inside. */
const sameKind = (a: unknown, b: unknown): boolean => (isObject(a) && isObject(b)) || (Array.isArray(a) && Array.isArray(b))

/** The items in common that must follow removals from the front for them to be used. */
const MIN_RUN = 8

/** The most items that removals from the front of an array may move, summed over the removals. */
export const MAX_REMOVAL_MOVES = 2 ** 22

function diffArrays(before: readonly unknown[], after: readonly unknown[], path: PatchPath, out: Patch[]): void {
  let start = 0
  while (start < before.length && start < after.length && Object.is(before[start], after[start])) start++
  // How many items went from the front of the rest: where the rest of `after` resumes in `before`.
  let removed = 0
  if (start < after.length) {
    const resume = after[start]
    while (start + removed < before.length && !Object.is(before[start + removed], resume)) removed++
    // Removals pay only when a run in common follows (a reversed array has one item in common).
    let run = 0
    while (run < MIN_RUN && start + removed + run < before.length && Object.is(before[start + removed + run], after[start + run]))
      run++
    if (start + removed === before.length || run < Math.min(MIN_RUN, after.length - start)) removed = 0
  }
  // Each removal moves every item after it, here and on every replica: 50,000 from the front of
  // 100,000 took seconds. Past a few milliseconds of moves, the array is sent whole instead.
  if (removed * (before.length - start) > MAX_REMOVAL_MOVES) {
    out.push({ op: 'replace', path, value: after })
    return
  }
  for (let i = 0; i < removed; i++) out.push({ op: 'remove', path: [...path, start] })
  let length = before.length - removed
  for (let i = start; i < after.length; i++) {
    if (i >= length) {
      out.push({ op: 'add', path: [...path, i], value: after[i] })
      length++
      continue
    }
    const was = before[i + removed]
    if (Object.is(was, after[i])) continue
    // An item changed in place (same position, nothing shifted) keeps its own, smaller patches.
    if (removed === 0 && sameKind(was, after[i])) diff(was, after[i], [...path, i], out)
    else out.push({ op: 'replace', path: [...path, i], value: after[i] })
  }
  if (length > after.length) out.push({ op: 'replace', path: [...path, 'length'], value: after.length })
}
