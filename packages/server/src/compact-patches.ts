import type { Patch, PatchPath } from '@ipc-state/protocol'

type Node = Record<string | number, unknown>

/** The value at `path` in `root`, or `undefined` when the path leads nowhere. */
function at(root: unknown, path: PatchPath): unknown {
  let node = root
  for (const key of path) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, key)) return undefined
    node = (node as Node)[key]
  }
  return node
}

/**
 * The fewest patches, found cheaply, that turn array `before` into `after`: the common start is
 * kept, the items removed before the next common run go as removals from the front of the rest
 * (what `shift` does), the common run is kept, and the rest is written over. Items are compared by
 * identity, which the library keeps for every item an action did not touch.
 */
function arrayPatches(path: PatchPath, before: readonly unknown[], after: readonly unknown[]): Patch[] {
  let start = 0
  while (start < before.length && start < after.length && Object.is(before[start], after[start])) start++
  // How many items went from the front of the rest: where the rest of `after` resumes in `before`.
  let removed = 0
  if (start < after.length) {
    const next = after[start]
    while (start + removed < before.length && !Object.is(before[start + removed], next)) removed++
    if (start + removed === before.length) removed = 0 // nothing in common: write the rest over
  }
  const patches: Patch[] = []
  for (let i = 0; i < removed; i++) patches.push({ op: 'remove', path: [...path, start] })
  let length = before.length - removed
  let i = start
  while (i < after.length && i < length && Object.is(before[i + removed], after[i])) i++
  for (; i < after.length; i++) {
    if (i < length) {
      if (!Object.is(before[i + removed], after[i])) patches.push({ op: 'replace', path: [...path, i], value: after[i] })
    } else {
      patches.push({ op: 'add', path: [...path, i], value: after[i] })
      length++
    }
  }
  if (length > after.length) patches.push({ op: 'replace', path: [...path, 'length'], value: after.length })
  return patches
}

/**
 * Rewrites the patches an action made to each array it changed item by item into the fewest
 * found by {@link arrayPatches}, when that is fewer: removing the first item of a long array
 * (a capped log's `shift`) makes the library rewrite every later index, one patch each; here it
 * is one removal. Only arrays whose patches all sit directly on them are rewritten, so a change
 * inside one of their items keeps its own patch.
 */
export function compactPatches(base: unknown, next: unknown, patches: readonly Patch[]): Patch[] {
  if (patches.length < 2) return patches as Patch[]
  // Arrays with direct patches, by the patches' parent path, in order of first appearance.
  const groups = new Map<string, { path: PatchPath; first: number; count: number }>()
  const deeper = new Set<string>()
  for (const [index, patch] of patches.entries()) {
    const parent = patch.path.slice(0, -1)
    if (patch.path.length > 0 && Array.isArray(at(base, parent)) && Array.isArray(at(next, parent))) {
      const key = JSON.stringify(parent)
      const group = groups.get(key)
      if (group === undefined) groups.set(key, { path: parent, first: index, count: 1 })
      else group.count++
    }
    // Every array above this patch's parent has a change inside one of its items.
    for (let length = 0; length < patch.path.length - 1; length++) deeper.add(JSON.stringify(patch.path.slice(0, length)))
  }
  const rewrites = new Map<number, Patch[]>()
  const dropped = new Set<string>()
  for (const [key, group] of groups) {
    if (group.count < 2 || deeper.has(key)) continue
    const rewritten = arrayPatches(group.path, at(base, group.path) as unknown[], at(next, group.path) as unknown[])
    if (rewritten.length >= group.count) continue
    rewrites.set(group.first, rewritten)
    dropped.add(key)
  }
  if (rewrites.size === 0) return patches as Patch[]
  const out: Patch[] = []
  for (const [index, patch] of patches.entries()) {
    const rewritten = rewrites.get(index)
    if (rewritten !== undefined) out.push(...rewritten)
    const parent = patch.path.slice(0, -1)
    if (patch.path.length > 0 && dropped.has(JSON.stringify(parent))) continue
    out.push(patch)
  }
  return out
}
