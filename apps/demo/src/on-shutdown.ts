/** The signals that ask a demo process to stop. */
export const SHUTDOWN_SIGNALS = ['SIGINT', 'SIGTERM'] as const

/**
 * Runs `handler` once, on the first SIGINT or SIGTERM (Ctrl-C reaches every process of the
 * terminal's group, and the orchestrator sends SIGTERM as well). Returns a function that removes
 * the signal handlers again.
 */
export function onShutdown(handler: (signal: NodeJS.Signals) => void | Promise<void>): () => void {
  let called = false
  const listener = (signal: NodeJS.Signals) => {
    if (called) return
    called = true
    void handler(signal)
  }
  for (const signal of SHUTDOWN_SIGNALS) process.on(signal, listener)
  return () => {
    for (const signal of SHUTDOWN_SIGNALS) process.off(signal, listener)
  }
}
