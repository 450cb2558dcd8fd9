/**
 * A logger in the usual `debug/info/warn/error` shape (console, pino and winston all fit). Every
 * method is optional; ipc-state is silent unless given one.
 */
export interface Logger {
  debug?(message: string, details?: Record<string, unknown>): void
  info?(message: string, details?: Record<string, unknown>): void
  warn?(message: string, details?: Record<string, unknown>): void
  error?(message: string, details?: Record<string, unknown>): void
}
