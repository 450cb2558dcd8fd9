import { defineStore } from '@ipc-state/protocol'

/**
 * A value an action builds on the server, described in plain JSON so that it can travel as an
 * action's input: most kinds are exactly what JSON cannot carry (undefined, NaN, -0, dates, maps,
 * functions, sparse arrays), which only an action running on the server can write into the state.
 */
export type ValueSpec =
  | { t: 'json'; v: string | number | boolean | null }
  | { t: 'undefined' | 'nan' | 'infinity' | '-infinity' | '-0' | 'function' | 'symbol' | 'bigint' }
  | { t: 'date'; ms: number }
  | { t: 'map'; entries: [string, ValueSpec][] }
  | { t: 'set'; items: ValueSpec[] }
  | { t: 'object'; entries: [string, ValueSpec][] }
  | { t: 'array'; items: ValueSpec[] }
  /** An array of `length` with only the given indexes set: the rest are holes. */
  | { t: 'sparse'; length: number; items: [number, ValueSpec][] }

/** Builds the value `spec` describes. */
export function build(spec: ValueSpec): unknown {
  switch (spec.t) {
    case 'json':
      return spec.v
    case 'undefined':
      return undefined
    case 'nan':
      return Number.NaN
    case 'infinity':
      return Number.POSITIVE_INFINITY
    case '-infinity':
      return Number.NEGATIVE_INFINITY
    case '-0':
      return -0
    case 'function':
      return () => 'not JSON'
    case 'symbol':
      return Symbol('not JSON')
    case 'bigint':
      return 1n
    case 'date':
      return new Date(spec.ms)
    case 'map':
      return new Map(spec.entries.map(([key, value]) => [key, build(value)]))
    case 'set':
      return new Set(spec.items.map(build))
    case 'object': {
      const object: Record<string, unknown> = {}
      // defineProperty: a key such as "__proto__" stays a plain own property, as JSON.parse makes it.
      for (const [key, value] of spec.entries) {
        Object.defineProperty(object, key, { value: build(value), writable: true, enumerable: true, configurable: true })
      }
      return object
    }
    case 'array':
      return spec.items.map(build)
    case 'sparse': {
      const array: unknown[] = new Array(spec.length)
      for (const [index, value] of spec.items) array[index] = build(value)
      return array
    }
  }
}

/** One step of a random sequence; `path` names nested object keys from the state's root. */
export type Op =
  | { op: 'set'; path: string[]; value: ValueSpec }
  | { op: 'delete'; path: string[] }
  | { op: 'push'; path: string[]; values: ValueSpec[] }
  | { op: 'shift'; path: string[] }
  | { op: 'splice'; path: string[]; start: number; deleteCount: number; values: ValueSpec[] }
  | { op: 'setIndex'; path: string[]; index: number; value: ValueSpec }
  | { op: 'truncate'; path: string[]; length: number }

type Node = Record<string, unknown>

const isPlainObject = (value: unknown): value is Node => typeof value === 'object' && value !== null && !Array.isArray(value)

/** The object holding the last key of `path`, made (as `{}`) wherever something else is in the way. */
function parentOf(state: Node, path: string[]): Node {
  let node = state
  for (const key of path.slice(0, -1)) {
    if (!isPlainObject(node[key])) node[key] = {}
    node = node[key] as Node
  }
  return node
}

/** The array at `path`, made (as `[]`) when something else is there. */
function arrayAt(state: Node, path: string[]): unknown[] {
  const parent = parentOf(state, path)
  const key = path.at(-1)!
  if (!Array.isArray(parent[key])) parent[key] = []
  return parent[key] as unknown[]
}

/**
 * Applies `op` to `state` in place. The server runs it on its draft inside an action; a test runs
 * it on a plain copy to know what the state must become.
 */
export function applyOp(state: Node, op: Op): void {
  switch (op.op) {
    case 'set':
      parentOf(state, op.path)[op.path.at(-1)!] = build(op.value)
      return
    case 'delete':
      delete parentOf(state, op.path)[op.path.at(-1)!]
      return
    case 'push':
      arrayAt(state, op.path).push(...op.values.map(build))
      return
    case 'shift':
      arrayAt(state, op.path).shift()
      return
    case 'splice':
      arrayAt(state, op.path).splice(op.start, op.deleteCount, ...op.values.map(build))
      return
    case 'setIndex':
      arrayAt(state, op.path)[op.index] = build(op.value)
      return
    case 'truncate':
      arrayAt(state, op.path).length = op.length
      return
  }
}

export const jsonValuesInitialState: Node = { d: 1, n: 0 }

/** A store whose actions write whatever a test asks for, JSON or not. */
export const jsonValuesStore = defineStore({
  initialState: jsonValuesInitialState,
  actions: {
    /** `state.d = undefined`: the common way to clear an optional property in TypeScript. */
    clear(state) {
      state.d = undefined
    },
    /** Applies one step and returns the value it wrote, which travels back as JSON does. */
    apply(state, op: Op) {
      applyOp(state, op)
      return 'value' in op ? build(op.value) : undefined
    },
    /** Puts the state back to its initial value, so every random sequence starts from the same place. */
    reset(state) {
      for (const key of Object.keys(state)) delete state[key]
      Object.assign(state, jsonValuesInitialState)
    },
    // Named like members every object inherits: the server must find them as actions of this store.
    toString(state: Node) {
      state.named = 'toString'
    },
    constructor(state: Node, by: number) {
      state.named = `constructor ${by}`
    },
    valueOf(state: Node) {
      state.named = 'valueOf'
    },
  },
})

export type JsonValuesStore = typeof jsonValuesStore
