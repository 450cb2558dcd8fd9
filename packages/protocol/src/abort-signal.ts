// What the library needs of an AbortSignal, declared here so its types need neither the DOM lib nor @types/node.

/**
 * An `AbortSignal` as far as ipc-state uses one: Node's and a browser's `AbortSignal` (from
 * `AbortController` or `AbortSignal.timeout()`) are ones. Declared structurally, so a project whose
 * `lib` has no DOM and that has no `@types/node` compiles the library's types.
 */
export interface AbortSignalLike {
  /** Whether it has fired. */
  readonly aborted: boolean
  /** Why it fired: what `abort(reason)` was given. */
  readonly reason?: unknown
  /** Runs `listener` when it fires. */
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void
  /** Stops running `listener` when it fires. */
  removeEventListener(type: 'abort', listener: () => void): void
}
