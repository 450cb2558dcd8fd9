/**
 * The hook a React component reads an ipc-state client's replica with.
 * @module @ipc-state/react
 */
export { useStoreState } from './use-store-state.js'
export type { StoreStateSource } from './use-store-state.js'
