// Replay's own patch applier: changes applied in place to a state that nobody else holds.
import type { Patch } from '@ipc-state/protocol'

type Container = Record<string, unknown> | unknown[]

/**
 * Applies patches to a state that nobody else holds, in place: replay runs every change since the
 * last snapshot, and copying each path, as a replica does, would cost the size of every array
 * touched for every change.
 * @throws Error when a patch does not fit
 */
export function patchInPlace(root: unknown, patches: readonly Patch[]): unknown {
  for (const patch of patches) {
    const { op, path } = patch
    // JSON has no undefined: a patch without its value is none a server wrote (and would leave a hole).
    if (op !== 'remove' && !Object.hasOwn(patch, 'value')) throw new Error(`a patch that sets /${path.join('/')} holds no value`)
    const value = op === 'remove' ? undefined : patch.value
    if (path.length === 0) {
      if (op === 'remove') throw new Error('the root cannot be removed')
      root = value
      continue
    }
    let parent = root as Container
    for (let i = 0; i < path.length - 1; i++) {
      const child = Object.hasOwn(parent, path[i]!) ? (parent as Record<string, unknown>)[path[i]!] : undefined
      if (typeof child !== 'object' || child === null) throw new Error(`nothing at /${path.slice(0, i + 1).join('/')}`)
      parent = child as Container
    }
    const key = path[path.length - 1]!
    if (Array.isArray(parent)) {
      const index = key === '-' ? parent.length : Number(key)
      if (key === 'length' && op === 'replace') {
        // A diff writes `length` only to cut an array short: a longer one would be holes.
        if (!Number.isInteger(value) || (value as number) < 0 || (value as number) > parent.length) {
          throw new Error(`length ${String(value)} does not cut an array of ${parent.length} short`)
        }
        parent.length = value as number
      } else if (!Number.isInteger(index) || index < 0 || index > parent.length) throw new Error(`no index ${String(key)}`)
      else if (op === 'add') parent.splice(index, 0, value)
      else if (op === 'remove') parent.splice(index, 1)
      else parent[index] = value
    } else if (op === 'remove') {
      delete (parent as Record<string, unknown>)[key]
    } else if (key === '__proto__') {
      // Assigned, it would replace the object's prototype: JSON makes it a key like any other.
      Object.defineProperty(parent, key, { value, writable: true, enumerable: true, configurable: true })
    } else {
      // Every other key of a plain object's prototype chain is a writable value, so assigning
      // makes or sets an own key, as defining it would, at a fraction of the cost.
      ;(parent as Record<string, unknown>)[key] = value
    }
  }
  return root
}
