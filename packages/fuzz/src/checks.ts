// What every decoded value and every error must be, whatever the input: the invariants the properties share.
import { ErrorCode, IpcStateError } from '@ipc-state/protocol'

const objectProto = Object.prototype
const arrayProto = Array.prototype

/** The own property names of `Object.prototype` and `Array.prototype`, to tell that nothing was written to them. */
export function prototypeFingerprint(): string {
  const names = (target: object) =>
    Reflect.ownKeys(target)
      .map((key) => String(key))
      .sort()
      .join(',')
  return `${names(objectProto)}|${names(arrayProto)}|${Object.isExtensible(objectProto)}`
}

const pristine = prototypeFingerprint()

/**
 * Throws when a property was added to `Object.prototype` or `Array.prototype` since this module was
 * loaded; removes what was added first, so one finding does not spoil the runs after it.
 */
export function assertPrototypesUntouched(): void {
  const now = prototypeFingerprint()
  if (now === pristine) return
  const added: string[] = []
  for (const target of [objectProto, arrayProto]) {
    const before = new Set(pristine.split('|')[target === objectProto ? 0 : 1]!.split(','))
    for (const key of Reflect.ownKeys(target)) {
      if (before.has(String(key))) continue
      added.push(`${target === objectProto ? 'Object' : 'Array'}.prototype.${String(key)}`)
      delete (target as Record<PropertyKey, unknown>)[key]
    }
  }
  throw new Error(`A prototype was written: ${added.join(', ') || now}`)
}

/**
 * Checks that `value` is plain JSON data: null, booleans, finite numbers, strings, arrays and
 * objects whose prototype is `Object.prototype` or null, with no accessor, no symbol key, no hole,
 * an undefined only as an object's property (JSON's absent field), and no node reached twice (a decoded value is a tree: a shared node is a reference the wire
 * format should not have carried). Counts nodes and stops past `maxNodes`.
 * @returns the number of nodes
 * @throws Error describing the first thing that is not plain JSON, or that there are too many nodes
 */
export function assertPlainJson(value: unknown, maxNodes: number): number {
  const seen = new Set<object>()
  const stack: [unknown, string][] = [[value, '']]
  let nodes = 0
  while (stack.length > 0) {
    const [node, path] = stack.pop()!
    if (++nodes > maxNodes) throw new Error(`The value has more than ${maxNodes} nodes`)
    switch (typeof node) {
      case 'string':
      case 'boolean':
        continue
      case 'number':
        if (!Number.isFinite(node)) throw new Error(`Not JSON at /${path}: ${node}`)
        continue
      case 'object': {
        if (node === null) continue
        if (seen.has(node)) throw new Error(`The node at /${path} is reached twice`)
        seen.add(node)
        const proto = Object.getPrototypeOf(node)
        const isArray = Array.isArray(node)
        if (isArray ? proto !== arrayProto : proto !== objectProto && proto !== null) {
          throw new Error(`Not plain JSON at /${path}: its prototype is ${String(proto?.constructor?.name ?? proto)}`)
        }
        for (const key of Reflect.ownKeys(node)) {
          if (isArray && key === 'length') continue
          if (typeof key === 'symbol') throw new Error(`A symbol key at /${path}`)
          const descriptor = Object.getOwnPropertyDescriptor(node, key)!
          if (!('value' in descriptor) || !descriptor.enumerable) throw new Error(`An accessor or hidden key at /${path}/${key}`)
          // An undefined property is what JSON leaves out: the decoders use it for an absent field.
          if (descriptor.value === undefined && !isArray) continue
          stack.push([descriptor.value, `${path}/${key}`])
        }
        if (isArray && Object.keys(node).length !== (node as unknown[]).length) throw new Error(`An array with holes at /${path}`)
        continue
      }
      default:
        throw new Error(`Not JSON at /${path}: a ${typeof node}`)
    }
  }
  return nodes
}

/** Throws `error` again unless it is an {@link IpcStateError} with one of `codes`. */
export function assertIpcStateError(error: unknown, codes: readonly ErrorCode[]): asserts error is IpcStateError {
  if (error instanceof IpcStateError && codes.includes(error.code)) return
  const name =
    error instanceof Error ? `${error.constructor.name}${error instanceof IpcStateError ? ` ${error.code}` : ''}` : typeof error
  throw new Error(`Expected an IpcStateError ${codes.join(' or ')}, got ${name}: ${(error as Error)?.message ?? String(error)}`, {
    cause: error,
  })
}

/** Rejects with a message naming `what` if `promise` has not settled within `ms`: a hang is a finding. */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}

export { ErrorCode }
