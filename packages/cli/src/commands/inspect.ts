// `ipc-state inspect`: serves a live page of the server's state, changes and clients on 127.0.0.1.
import type { CommandContext } from '../command-context.js'
import { CliError, ExitCode } from '../exit-codes.js'
import { startInspector } from '../inspector/inspector-server.js'
import { openClient } from '../open-client.js'
import { paint } from '../output.js'

/** Options of `ipc-state inspect`. */
export interface InspectOptions {
  /**
   * The port on 127.0.0.1 to serve the page on; 0 picks a free one.
   * @default 0
   */
  port?: number
}

/**
 * `ipc-state inspect`: serves a live page of the server's state, its changes and its clients,
 * with a form to call actions, on 127.0.0.1 behind a secret URL, which it prints on stdout. Runs
 * until `context.signal` aborts; then ends the pages' streams, stops the HTTP server and closes
 * the client.
 * @throws CliError with {@link ExitCode.FAILED} when the port is taken or no server answers
 */
export async function runInspect(context: CommandContext, options: InspectOptions): Promise<void> {
  const { output, signal } = context
  if (signal.aborted) return
  await using client = await openClient({
    address: context.address,
    clientId: context.clientId,
    timeout: context.timeout,
    replica: true,
    reconnect: true,
  })
  await using inspector = await startInspector({ client, port: options.port ?? 0 }).catch((error: unknown) => {
    if ((error as { code?: unknown }).code === 'EADDRINUSE') {
      throw new CliError(
        `port ${options.port} is in use on 127.0.0.1: choose another with --port, or leave it out`,
        ExitCode.FAILED,
      )
    }
    throw error
  })
  output.line(inspector.url)
  output.error(paint(`inspecting ${client.path}: open the address above; Ctrl-C stops`, 'dim', output.errorColor))
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))
}
