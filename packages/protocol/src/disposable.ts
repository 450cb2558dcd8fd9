// The servers and clients we return carry `[Symbol.asyncDispose]`, and the examples use
// `await using`. These are TypeScript's own declarations for both (lib `esnext.disposable`), as
// @types/node repeats them: identical declarations merge, so they never clash with either, and a
// consumer whose `lib` predates them still compiles. Node has had both symbols since 20.4.
declare global {
  interface SymbolConstructor {
    readonly dispose: unique symbol
    readonly asyncDispose: unique symbol
  }
  interface Disposable {
    [Symbol.dispose](): void
  }
  interface AsyncDisposable {
    [Symbol.asyncDispose](): PromiseLike<void>
  }
}

export {}
