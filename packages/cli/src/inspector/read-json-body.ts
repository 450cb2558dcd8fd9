// Reads an HTTP request's JSON body, bounded in size and type.
import type { IncomingMessage } from 'node:http'

/** A request body read by {@link readJsonBody}: its value, or the HTTP status and reason to refuse it with. */
export type JsonBody = { ok: true; value: unknown } | { ok: false; status: 400 | 413 | 415; message: string }

/**
 * Reads a request's body as JSON, refusing it without reading on once it passes `maxBytes`
 * (`413`), when it is not declared `application/json` (`415`; a page of another origin cannot send
 * that without asking first) or when it is not JSON (`400`).
 */
export async function readJsonBody(request: IncomingMessage, maxBytes: number): Promise<JsonBody> {
  const type = request.headers['content-type'] ?? ''
  if (!/^application\/json\s*(;|$)/i.test(type)) return { ok: false, status: 415, message: 'send the body as application/json' }
  const declared = Number(request.headers['content-length'])
  if (declared > maxBytes) return { ok: false, status: 413, message: `the body may have at most ${maxBytes} bytes` }
  const chunks: Buffer[] = []
  let size = 0
  // Left early, the request is not destroyed: its socket is still needed for the answer.
  for await (const chunk of request.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > maxBytes) return { ok: false, status: 413, message: `the body may have at most ${maxBytes} bytes` }
    chunks.push(chunk)
  }
  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) }
  } catch {
    return { ok: false, status: 400, message: 'the body is not JSON' }
  }
}
