// Drafts that never hand an action a prototype, a built-in constructor or a built-in function it could write to.
import { create } from 'mutative'

type Handler = ProxyHandler<object>
type Get = NonNullable<Handler['get']>
type Set = NonNullable<Handler['set']>

/**
 * The most holes (missing items, which JSON writes as `null`) one write may add to an array.
 * The draft library pays for every slot of an array made longer, and so does each replica: a
 * 60-byte call writing index 1e7 stalled the server for seconds before any bound was checked.
 */
export const MAX_NEW_HOLES = 1024

const revocable = Proxy.revocable
const apply = Reflect.apply
const { freeze, setPrototypeOf } = Object

/**
 * What a draft must not return: reading `__proto__` of an object or array reaches these, and
 * `constructor` reaches the constructors, whose properties (`Object.keys`, `Object.prototype`) every
 * other part of the process uses.
 */
const unreachable = new Set<unknown>([Object.prototype, Array.prototype, Function.prototype, Object, Array, Function])

/** Frozen stand-ins of the functions drafts inherit, made once each. */
const standIns = new WeakMap<object, unknown>()

/**
 * A frozen function without a prototype that calls `fn` with the same `this` and arguments:
 * `state.items[key][sub] = value` with `key` "hasOwnProperty" and `sub` "call" would otherwise
 * replace `Object.prototype.hasOwnProperty.call` for the whole process.
 */
function standIn(fn: (...args: unknown[]) => unknown): unknown {
  let found = standIns.get(fn)
  if (found === undefined) {
    const wrapper = function (this: unknown, ...args: unknown[]) {
      return apply(fn, this, args)
    }
    found = freeze(setPrototypeOf(wrapper, null))
    standIns.set(fn, found)
  }
  return found
}

/** What a draft hands out for `value`: nothing for a prototype or a constructor, a stand-in for a function. */
function guarded(value: unknown): unknown {
  if (typeof value === 'function') return unreachable.has(value) ? undefined : standIn(value as (...args: unknown[]) => unknown)
  if (typeof value === 'object' && value !== null && unreachable.has(value)) return undefined
  return value
}

const guardGet =
  (get: Get): Get =>
  (target, key, receiver) =>
    guarded(get(target, key, receiver))

/** An index or length that would leave more than {@link MAX_NEW_HOLES} holes is refused before the draft library pays for it. */
const guardArraySet =
  (set: Set): Set =>
  (target, key, value, receiver) => {
    if (typeof key === 'string') {
      const length = (receiver as unknown[]).length
      if (key === 'length') {
        // As the array itself will read it: `length = '1e9'` is a length of 1e9.
        const next = Number(value)
        if (next > length + MAX_NEW_HOLES) {
          throw new RangeError(
            `Setting an array's length from ${length} to ${next} would add ${next - length} holes (at most ${MAX_NEW_HOLES}; JSON writes each as null)`,
          )
        }
      } else {
        const index = Number(key)
        if (index > length + MAX_NEW_HOLES) {
          throw new RangeError(
            `Writing index ${key} of an array of ${length} items would add ${index - length} holes (at most ${MAX_NEW_HOLES}; JSON writes each as null)`,
          )
        }
      }
    }
    return set(target, key, value, receiver)
  }

/** The draft library's own proxy handlers for objects and arrays, found by watching it make one of each. */
function libraryHandlers(): { object: Handler; array: Handler } {
  const seen: Handler[] = []
  Proxy.revocable = ((target: object, handler: Handler) => {
    seen.push(handler)
    return revocable(target, handler)
  }) as typeof Proxy.revocable
  try {
    create({ array: [] as unknown[] }, (draft) => {
      void draft.array.length
    })
  } finally {
    Proxy.revocable = revocable
  }
  const [object, array] = seen
  if (object === undefined || array === undefined || object === array || object.get === undefined || array.get === undefined) {
    throw new Error('The draft library no longer makes its drafts with Proxy.revocable: the draft guard cannot be installed')
  }
  return { object, array }
}

const library = libraryHandlers()
const guardedObject: Handler = { ...library.object, get: guardGet(library.object.get!) }
const guardedArray: Handler = { ...library.array, get: guardGet(library.array.get!), set: guardArraySet(library.array.set!) }

const guardedRevocable = ((target: object, handler: Handler) =>
  revocable(
    target,
    handler === library.object ? guardedObject : handler === library.array ? guardedArray : handler,
  )) as typeof Proxy.revocable

/**
 * `create` of the draft library, with drafts that answer `__proto__` and `constructor` with
 * `undefined` (as an object without a prototype would), hand out frozen stand-ins of the functions
 * they inherit, and refuse array writes that would add more than {@link MAX_NEW_HOLES} holes.
 *
 * The library's handlers are not exported, and a state of objects without a prototype is not
 * drafted without its `mark` option, which turns off its native array methods (a capped log's
 * push then shift took 15 times as long). So the library's proxies get guarded handlers for the
 * length of this call only; the action runs synchronously, and nothing else sees the swap.
 */
export function createDraft<S extends object>(base: S, recipe: (draft: S) => void): S {
  const previous = Proxy.revocable
  Proxy.revocable = guardedRevocable
  try {
    return create(base, recipe) as S
  } finally {
    Proxy.revocable = previous
  }
}

/**
 * Enumerable properties of `Object.prototype` and `Array.prototype` (a `for…in` of an array lists
 * both): none in a sound process, and what an assignment to a reached prototype adds.
 */
export function prototypeKeys(): string[] {
  const keys: string[] = []
  for (const key in Array.prototype) keys.push(key)
  return keys
}

/**
 * Removes the enumerable properties that `Object.prototype` and `Array.prototype` gained since
 * `before` was taken with {@link prototypeKeys}, and returns their names: the last line of defence
 * for objects the action made itself (`{}['__proto__']` is `Object.prototype` whatever the draft does).
 */
export function removeNewPrototypeKeys(before: readonly string[]): string[] {
  const added = prototypeKeys().filter((key) => !before.includes(key))
  for (const key of added) {
    delete (Object.hasOwn(Array.prototype, key) ? Array.prototype : Object.prototype)[key as keyof object]
  }
  return added
}
