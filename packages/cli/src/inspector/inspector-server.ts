// The inspector's HTTP server on 127.0.0.1: its page, its event stream and its action calls, behind a secret URL.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { AnyClient } from '../open-client.js'
import { callAction, checkCallRequest } from './call-action.js'
import { createEventStreams } from './event-streams.js'
import { loadPageFiles, type PageFile } from './page-files.js'
import { readJsonBody } from './read-json-body.js'
import { createStateFeed } from './state-feed.js'
import { createToken, tokenMatches } from './token.js'

/** Options for {@link startInspector}. */
export interface InspectorOptions {
  /** A client with a replica, which the inspector uses but does not close. */
  client: AnyClient
  /**
   * The port on 127.0.0.1; 0 picks a free one.
   * @default 0
   */
  port?: number
  /**
   * Bytes a call's request body may have.
   * @default 1 MiB
   */
  maxBodyBytes?: number
  /** The page's files. @default the package's own */
  pageFolder?: URL
}

/** A running inspector. */
export interface Inspector extends AsyncDisposable {
  /** The page's address, with its secret token: `http://127.0.0.1:<port>/<token>/`. */
  readonly url: string
  /** Ends the pages' streams and stops the HTTP server. A second call is a no-op. */
  close(): Promise<void>
}

const HOST = '127.0.0.1'

// Only this origin's files, no inline code, no framing, and the token never leaves in a Referer.
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
}

/**
 * Serves the inspector page for `client` on 127.0.0.1, behind a random token in the URL: any
 * other path, and any request naming another host (a rebound DNS name), is answered 404 or 403
 * with nothing else. The page follows the state over server-sent events and calls actions with
 * `POST <token>/call`.
 *
 * @throws Error with `code: 'EADDRINUSE'` when `port` is taken
 */
export async function startInspector(options: InspectorOptions): Promise<Inspector> {
  const files = await loadPageFiles(options.pageFolder)
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024
  const token = createToken()
  const streams = createEventStreams({ headers: SECURITY_HEADERS })
  const feed = createStateFeed({ client: options.client, streams })
  let port = 0

  const send = (
    response: ServerResponse,
    status: number,
    body: string | Buffer = '',
    contentType = 'text/plain; charset=utf-8',
  ): void => {
    response.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': contentType }).end(body)
  }
  const sendJson = (response: ServerResponse, status: number, value: unknown): void =>
    send(response, status, JSON.stringify(value), 'application/json; charset=utf-8')
  const serveFile = (response: ServerResponse, file: PageFile): void => send(response, 200, file.body, file.contentType)

  const route = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const host = request.headers.host
    if (host !== `${HOST}:${port}` && host !== `localhost:${port}`) return send(response, 403, 'Forbidden')
    const [, given = '', ...rest] = (request.url ?? '/').split('?')[0]!.split('/')
    if (!tokenMatches(token, given)) return send(response, 404, 'Not found')
    const name = rest.join('/')
    if (rest.length === 0) {
      response.writeHead(308, { ...SECURITY_HEADERS, Location: `/${token}/` }).end()
      return
    }
    if (name === 'call') {
      if (request.method !== 'POST') return send(response, 405, 'Method not allowed')
      const body = await readJsonBody(request, maxBodyBytes)
      if (!body.ok) {
        response.setHeader('Connection', 'close')
        return sendJson(response, body.status, { ok: false, error: { code: 'BAD_REQUEST', message: body.message } })
      }
      const checked = checkCallRequest(body.value)
      if (!checked.ok) return sendJson(response, 400, { ok: false, error: { code: 'BAD_REQUEST', message: checked.message } })
      return sendJson(response, 200, await callAction(options.client, checked.request))
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, 405, 'Method not allowed')
    if (name === 'events') return streams.open(response, feed.greet)
    const file = files.get(name === '' ? 'index.html' : name)
    return file === undefined ? send(response, 404, 'Not found') : serveFile(response, file)
  }

  const server = createServer((request, response) => {
    route(request, response).catch(() => {
      // Whatever went wrong stays here: one failed request, never the process.
      if (!response.headersSent) send(response, 500, 'Internal error')
      else response.destroy()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, HOST, () => {
      server.off('error', reject)
      resolve()
    })
  })
  port = (server.address() as AddressInfo).port

  let closing: Promise<void> | undefined
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      feed.stop()
      streams.close()
      server.close(() => resolve())
      server.closeAllConnections()
    })
    return closing
  }
  return { url: `http://${HOST}:${port}/${token}/`, close, [Symbol.asyncDispose]: close }
}
