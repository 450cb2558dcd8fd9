// The demo's web page: with IPC_STATE_WEB_PORT set, the server also listens on 127.0.0.1 for pages, and serves one showing the live state.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { fileURLToPath } from 'node:url'
import { listenWebSocket, type WebSocketListener } from '@ipc-state/server/websocket'
import { build } from 'esbuild'

/** The page's script, bundled with the browser client for a browser: no bundler on the user's side. */
const PAGE_SCRIPT = fileURLToPath(new URL('../page/page.ts', import.meta.url))

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ipc-state demo</title>
<style>body { font: 16px system-ui, sans-serif; margin: 2rem; } output { font-size: 3rem; display: block; }</style>
<script type="module" src="/page.js"></script>
</head><body>
<h1>ipc-state demo</h1>
<p>Connection: <span id="status">connecting</span></p>
<p>Counter <output id="counter">…</output></p>
<button id="increment" disabled>increment</button>
<p id="problem" hidden></p>
<h2>Latest messages</h2>
<ul id="messages"></ul>
</body></html>
`

/** What the page may load and reach: its own script and its own WebSocket listener, nothing else. */
const HEADERS = {
  'Cache-Control': 'no-store',
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
}

/**
 * The port of `IPC_STATE_WEB_PORT`, 0 for a free one, or `undefined` when it is unset or empty.
 * @throws TypeError when it is not a port number
 */
export function demoWebPort(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const text = env.IPC_STATE_WEB_PORT
  if (text === undefined || text === '') return undefined
  const port = Number(text)
  if (!/^\d+$/.test(text) || port > 65_535) {
    throw new TypeError(`IPC_STATE_WEB_PORT must be a port number from 0 to 65535, not ${JSON.stringify(text)}`)
  }
  return port
}

/** The listener pages connect to, and the address to open: the page, with the token in its fragment. */
export interface DemoWebPage {
  readonly listener: WebSocketListener
  readonly address: string
}

/**
 * Bundles the page's script, then listens on 127.0.0.1:`port` for WebSocket clients (give the
 * listener to `createServer` as a transport) and serves the page over plain HTTP on the same port.
 * @throws IpcStateError `ADDRESS_IN_USE` when the port is taken
 */
export async function listenForPages(port: number): Promise<DemoWebPage> {
  const bundled = await build({
    entryPoints: [PAGE_SCRIPT],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  })
  const script = bundled.outputFiles[0]!.text
  let hosts: Set<string> = new Set()
  const listener = await listenWebSocket({
    port,
    request(request: IncomingMessage, response: ServerResponse) {
      // A rebound DNS name reaches 127.0.0.1 under a foreign Host: serve only our own names.
      if (!hosts.has((request.headers.host ?? '').toLowerCase())) {
        response.writeHead(403, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Forbidden host')
        return
      }
      const path = (request.url ?? '/').split('?')[0]
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.writeHead(405, { Allow: 'GET, HEAD' }).end()
      } else if (path === '/') {
        response.writeHead(200, { ...HEADERS, 'Content-Type': 'text/html; charset=utf-8' }).end(PAGE)
      } else if (path === '/page.js') {
        response.writeHead(200, { ...HEADERS, 'Content-Type': 'text/javascript; charset=utf-8' }).end(script)
      } else {
        response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('Not found')
      }
    },
  })
  hosts = new Set([`127.0.0.1:${listener.port}`, `localhost:${listener.port}`])
  return { listener, address: `${listener.origin}/#token=${listener.token}` }
}
