// useStoreState: a component reads a slice of an ipc-state client's replica and re-renders only when that slice changes.
import { useCallback, useRef, useSyncExternalStore } from 'react'

/**
 * What the hook reads: an `@ipc-state/client` client (`connect(…)`), or anything with the same
 * replica and change events. The client must keep its replica (`replica: true`, the default).
 */
export interface StoreStateSource<S> {
  /** The local replica: a new object after each change, unchanged parts keeping their identity. */
  readonly state: S
  /** Calls `listener` after each change to the replica; returns a function that stops it. */
  subscribe(listener: (state: S) => void): () => void
}

/** The last slice handed to React, and what it was selected from. */
interface Selection<S, V> {
  state: S
  selector: (state: S) => V
  value: V
}

/**
 * Returns `selector(client.state)` and re-renders the component when, after a change, the selected
 * value is not `isEqual` to the one it rendered with: a component that shows `state.counter` does
 * not re-render when `state.messages` changes. Built on React's `useSyncExternalStore`, so a render
 * never shows two versions of the state at once.
 *
 * The selector runs once per change (and when it is a new function, as an inline arrow is on each
 * render); while its result is `isEqual` to the last one, the last one is returned as it was, so
 * a selector may build a new object or array each time given `isEqual` that compares them (say a
 * shallow comparison).
 *
 * @param client a client from `connect`, with its replica
 * @param selector picks the slice the component shows; it must not change the state
 * @param isEqual whether two selected values are the same, so that the component need not re-render
 *   (default `Object.is`: unchanged parts of the state keep their identity between versions)
 * @example
 * ```tsx
 * function Counter({ client }: { client: IpcStateClient<typeof store> }) {
 *   const counter = useStoreState(client, (state) => state.counter)
 *   return <button onClick={() => client.actions.increment(1)}>{counter}</button>
 * }
 * ```
 */
export function useStoreState<S, V>(
  client: StoreStateSource<S>,
  selector: (state: S) => V,
  isEqual: (a: V, b: V) => boolean = Object.is,
): V {
  const last = useRef<Selection<S, V> | undefined>(undefined)
  const subscribe = useCallback((changed: () => void) => client.subscribe(() => changed()), [client])
  // React calls this on every render and after every change, and compares its results with
  // Object.is: the same state and selector must give the very same value.
  const select = (): V => {
    const state = client.state
    const previous = last.current
    if (previous !== undefined && previous.state === state && previous.selector === selector) return previous.value
    const value = selector(state)
    const kept = previous !== undefined && isEqual(previous.value, value) ? previous.value : value
    last.current = { state, selector, value: kept }
    return kept
  }
  return useSyncExternalStore(subscribe, select, select)
}
