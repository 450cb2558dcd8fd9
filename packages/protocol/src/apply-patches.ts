// Applies patches to frozen states: as a replica takes a change, and as the server commits one, values normalised as JSON.
import { ErrorCode, IpcStateError } from './errors.js'
import type { Patch, PatchPath } from './messages.js'

type Container = Record<string, unknown> | unknown[]

function isContainer(value: unknown): value is Container {
  return typeof value === 'object' && value !== null
}

/** Freezes `value` and everything under it that is not frozen yet. Iterative. */
export function deepFreeze<T>(value: T): T {
  if (!isContainer(value) || Object.isFrozen(value)) return value
  const stack: Container[] = [value]
  while (stack.length > 0) {
    const node = stack.pop()!
    Object.freeze(node)
    for (const child of Object.values(node)) {
      if (isContainer(child) && !Object.isFrozen(child)) stack.push(child)
    }
  }
  return value
}

function invalid(path: PatchPath, why: string): never {
  throw new IpcStateError(ErrorCode.BAD_REQUEST, `Cannot apply patch at /${path.join('/')}: ${why}`)
}

function setOwn(target: Container, key: string | number, value: unknown): void {
  // defineProperty, not assignment: a key such as "__proto__" must stay a plain own property.
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true })
}

function toIndex(container: unknown[], key: string | number, path: PatchPath, allowEnd: boolean): number {
  // Only canonical indexes: Number('') is 0 and Number('1e0') is 1, which no library emits.
  const index =
    typeof key === 'number' ? key : key === '-' ? container.length : /^(?:0|[1-9]\d*)$/.test(key) ? Number(key) : Number.NaN
  const max = allowEnd ? container.length : container.length - 1
  if (!Number.isInteger(index) || index < 0 || index > max) invalid(path, `index ${String(key)} is out of range`)
  return index
}

/** What a value is after a JSON round trip, or `ABSENT` where JSON leaves nothing (undefined, a function, a symbol). */
const ABSENT = Symbol('absent')

function toJsonValue(value: unknown): unknown {
  const text = JSON.stringify(value)
  return text === undefined ? ABSENT : JSON.parse(text)
}

/**
 * Applies patches to an immutable, frozen value and returns the new value. Unchanged branches are
 * shared with `base`, so `next.a === base.a` whenever no patch touched `a`; every new node is frozen.
 *
 * @throws IpcStateError `BAD_REQUEST` when a patch does not fit the value; `base` is untouched.
 */
export function applyPatches<T>(base: T, patches: readonly Patch[]): T {
  return patchWith(base, patches, undefined)
}

/** The state a {@link commitPatches} made, and the patches a replica applies to reach it. */
export interface CommittedPatches<T> {
  state: T
  patches: Patch[]
}

/**
 * Applies the patches an action made to `base`, storing every value as `JSON.stringify` then
 * `JSON.parse` would leave it, and returns the new state with the patches as they were applied.
 * `applyPatches(base, patches)` on a replica that holds `base` then yields a state deep-equal to
 * `state`, whatever the action wrote: an `undefined` property becomes a removal, `undefined` in an
 * array and `NaN` become `null`, a `Date` its ISO string, and so on.
 *
 * @throws TypeError naming the patch's path when a value cannot be JSON (a BigInt, a cycle)
 * @throws IpcStateError `BAD_REQUEST` when a patch does not fit the value; `base` is untouched.
 */
export function commitPatches<T>(base: T, patches: readonly Patch[]): CommittedPatches<T> {
  const applied: Patch[] = []
  const state = patchWith(base, patches, applied)
  return { state, patches: applied }
}

/** Applies `patches`; with `applied`, normalises each value to JSON first and records what it applied. */
function patchWith<T>(base: T, patches: readonly Patch[], applied: Patch[] | undefined): T {
  const fresh = new Set<Container>()
  const writable = (node: Container): Container => {
    if (fresh.has(node)) return node
    // Spread, not slice(): V8 copies a frozen array's items one by one on slice(), 30 times slower.
    const copy: Container = Array.isArray(node) ? [...node] : { ...node }
    fresh.add(copy)
    return copy
  }
  const normalise = (path: PatchPath, value: unknown): unknown => {
    try {
      return toJsonValue(value)
    } catch (error) {
      throw new TypeError(`Not JSON at /${path.join('/')}: ${(error as Error).message}`, { cause: error })
    }
  }
  let root: unknown = base
  for (const patch of patches) {
    const { path } = patch
    let value = patch.op === 'remove' ? undefined : applied === undefined ? patch.value : normalise(path, patch.value)
    if (path.length === 0) {
      if (patch.op === 'remove' || value === ABSENT) invalid(path, 'the root cannot be removed')
      root = deepFreeze(value)
      applied?.push({ op: patch.op, path, value })
      continue
    }
    if (!isContainer(root)) invalid(path, 'the state is not an object')
    root = writable(root)
    let parent = root as Container
    for (let i = 0; i < path.length - 1; i++) {
      const key = path[i]!
      const child = Object.hasOwn(parent, key) ? (parent as Record<string | number, unknown>)[key] : undefined
      if (!isContainer(child)) invalid(path, `nothing at /${path.slice(0, i + 1).join('/')}`)
      const copy = writable(child)
      setOwn(parent, key, copy)
      parent = copy
    }
    const key = path[path.length - 1]!
    if (Array.isArray(parent)) {
      // JSON writes what it cannot carry inside an array as null.
      if (value === ABSENT) value = null
      if (key === 'length' && patch.op === 'replace') {
        // A diff writes `length` only to cut an array short; a longer length would be holes, which
        // JSON cannot carry, and one small patch could make an array of 2^32 - 1 of them.
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > parent.length) {
          invalid(path, "length must be an integer from 0 to the array's length")
        }
        parent.length = value
      } else if (patch.op === 'add') {
        parent.splice(toIndex(parent, key, path, true), 0, deepFreeze(value))
      } else if (patch.op === 'remove') {
        parent.splice(toIndex(parent, key, path, false), 1)
      } else {
        parent[toIndex(parent, key, path, false)] = deepFreeze(value)
      }
    } else if (patch.op === 'remove' || value === ABSENT) {
      // JSON leaves out a property it cannot carry: writing one removes the key, if there was one.
      if (!Object.hasOwn(parent, key)) {
        if (patch.op === 'remove') invalid(path, 'no such key')
        continue
      }
      delete parent[key]
      applied?.push({ op: 'remove', path })
      continue
    } else {
      setOwn(parent, key, deepFreeze(value))
    }
    applied?.push(patch.op === 'remove' ? patch : { op: patch.op, path, value })
  }
  for (const node of fresh) Object.freeze(node)
  return root as T
}
