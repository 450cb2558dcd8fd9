// The worker side of the conversation with the harness: one JSON line per event on stdout, one
// JSON request per line on stdin, each answered with the same `tag`. The harness side is
// worker-process.ts. A worker ends when its stdin closes, so none outlives a harness that died.
import { createInterface } from 'node:readline'

/** A request from the harness: `cmd` names it, the rest are its arguments. */
export interface WorkerRequest {
  readonly tag: number
  readonly cmd: string
  readonly [key: string]: unknown
}

/** Prints one event line for the harness. */
export function emit(event: string, details: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ event, ...details })}\n`)
}

/** The JSON configuration the harness passed as the first argument. */
export function workerConfig<T>(): T {
  const text = process.argv[2]
  if (text === undefined) throw new TypeError('a worker takes its configuration as JSON in its first argument')
  return JSON.parse(text) as T
}

/**
 * Answers each request with what `handler` resolves to (`{"event":"result","tag","result"}`) or
 * the error it throws (`{"event":"result","tag","error"}`). Requests run concurrently. When stdin
 * closes, `onEnd` runs and the process exits.
 */
export function serveRequests(handler: (request: WorkerRequest) => unknown, onEnd: () => unknown = () => undefined): void {
  const input = createInterface({ input: process.stdin })
  input.on('line', (line) => {
    const request = JSON.parse(line) as WorkerRequest
    Promise.resolve()
      .then(() => handler(request))
      .then(
        (result) => emit('result', { tag: request.tag, result }),
        (error: unknown) => emit('result', { tag: request.tag, error: error instanceof Error ? error.stack : String(error) }),
      )
  })
  input.on('close', () => {
    Promise.resolve()
      .then(onEnd)
      .finally(() => process.exit(0))
  })
}
