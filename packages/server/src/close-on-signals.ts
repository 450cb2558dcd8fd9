// Closes a server cleanly when its process receives a shutdown signal.
const SHUTDOWN_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGBREAK', 'SIGUSR2'] as const

/**
 * A signal that can ask a server process to shut down. Our own union rather than `NodeJS.Signals`,
 * so these types compile without `@types/node`. (`SIGKILL` and `SIGSTOP` cannot be caught;
 * `SIGUSR1` belongs to Node's inspector.)
 */
export type ShutdownSignal = (typeof SHUTDOWN_SIGNALS)[number]

/** Options for {@link closeOnSignals}. */
export interface CloseOnSignalsOptions {
  /**
   * The signals that close the server.
   * @default ['SIGINT', 'SIGTERM']
   */
  signals?: readonly ShutdownSignal[]
  /**
   * Exit the process once the server has closed: with code 0, or 1 if closing failed. A second
   * signal while closing exits at once with code 1.
   * @default true
   */
  exit?: boolean
  /** Called with the signal that started the shutdown, before the server closes. */
  onSignal?: (signal: ShutdownSignal) => void
}

/**
 * Closes `server` cleanly (actions finished, clients told, socket file removed) when the process
 * receives SIGINT or SIGTERM. Returns a function that removes the handlers.
 *
 * @example
 * ```ts
 * const server = await createServer({ store, id: 'my-app' })
 * closeOnSignals(server)
 * ```
 * @throws TypeError when `signals` names something other than a {@link ShutdownSignal}
 */
export function closeOnSignals(server: { close(): Promise<void> }, options: CloseOnSignalsOptions = {}): () => void {
  const { signals = ['SIGINT', 'SIGTERM'], exit = true, onSignal } = options
  for (const signal of signals) {
    if (!(SHUTDOWN_SIGNALS as readonly string[]).includes(signal)) {
      throw new TypeError(`signals must name only ${SHUTDOWN_SIGNALS.join(', ')}; got ${String(signal)}`)
    }
  }
  let closing = false
  const handler = (signal: NodeJS.Signals) => {
    if (closing) {
      if (exit) process.exit(1)
      return
    }
    closing = true
    onSignal?.(signal as ShutdownSignal)
    server.close().then(
      () => {
        if (exit) process.exit(0)
      },
      () => {
        if (exit) process.exit(1)
      },
    )
  }
  for (const signal of signals) process.on(signal, handler)
  return () => {
    for (const signal of signals) process.off(signal, handler)
  }
}
