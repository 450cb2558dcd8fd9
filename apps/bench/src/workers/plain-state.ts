// What the raw `node:net` and node-ipc servers do for each operation: the same work as the bench
// store's actions and the Redis commands, on a plain object.
import { type Item, initialBenchState } from '../stores/bench-state.js'

/** An operation a client of the plain servers asks for. */
export type PlainOp = 'incr' | 'echo' | 'get' | 'publish' | 'pushShift' | 'snapshot'

/** The state of a plain server and the answer to each operation but `publish`. */
export function createPlainState(listItems: number): (op: PlainOp, value: unknown) => unknown {
  const state = initialBenchState(listItems)
  return (op, value) => {
    switch (op) {
      case 'incr':
        return ++state.counter
      case 'echo':
        return value
      case 'get':
        return state.counter
      case 'publish':
        state.message = value as string
        return null
      case 'pushShift':
        state.list.push(value as Item)
        state.list.shift()
        return null
      case 'snapshot':
        return state
      default:
        throw new Error(`unknown operation ${String(op)}`)
    }
  }
}
