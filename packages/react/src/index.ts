// `@ipc-state/react`: the hook a React component reads an ipc-state client's replica with.
export { useStoreState } from './use-store-state.js'
export type { StoreStateSource } from './use-store-state.js'
