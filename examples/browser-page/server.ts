// The counter's server, for processes on its Unix socket and for pages over a WebSocket, on the same HTTP port as the page it serves.
import { readFileSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { fileURLToPath } from 'node:url'
import { closeOnSignals, createServer, unixSocketTransport } from '@ipc-state/server'
import { listenWebSocket } from '@ipc-state/server/websocket'
import { build } from 'esbuild'
import { counterStore } from '../counter/store.js'

const port = Number(process.argv[2] ?? 0)

const html = readFileSync(new URL('./page/index.html', import.meta.url), 'utf8')
// The page's script, bundled with the browser client (`@ipc-state/client/browser`), which loads no Node.js module.
const bundled = await build({
  entryPoints: [fileURLToPath(new URL('./page/page.ts', import.meta.url))],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  write: false,
  logLevel: 'silent',
})
const script = bundled.outputFiles[0]!.text

/** The page may load its own script and reach its own WebSocket listener, nothing else. */
const HEADERS = {
  'Cache-Control': 'no-store',
  'Content-Security-Policy': "default-src 'none'; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'",
  'Referrer-Policy': 'no-referrer',
  'X-Content-Type-Options': 'nosniff',
}

let hosts = new Set<string>()
const web = await listenWebSocket({
  port,
  // Plain HTTP requests on the listener's port: the page and its script.
  request(request: IncomingMessage, response: ServerResponse) {
    // A rebound DNS name reaches 127.0.0.1 under a foreign Host: serve only our own names.
    if (!hosts.has((request.headers.host ?? '').toLowerCase())) {
      response.writeHead(403).end()
    } else if (request.method !== 'GET') {
      response.writeHead(405, { Allow: 'GET' }).end()
    } else if (request.url === '/') {
      response.writeHead(200, { ...HEADERS, 'Content-Type': 'text/html; charset=utf-8' }).end(html)
    } else if (request.url === '/page.js') {
      response.writeHead(200, { ...HEADERS, 'Content-Type': 'text/javascript; charset=utf-8' }).end(script)
    } else {
      response.writeHead(404).end()
    }
  },
})
hosts = new Set([`127.0.0.1:${web.port}`, `localhost:${web.port}`])

// The counter example's store under its id: that example's client calls this server as it is.
const server = await createServer({
  store: counterStore,
  transport: [unixSocketTransport({ id: 'counter', socketRoot: process.env.IPC_STATE_SOCKET_ROOT }), web],
})
console.log(`listening at ${server.path}`)
// The token goes in the fragment, which the browser keeps to itself.
console.log(`open ${web.origin}/#token=${web.token}`)
closeOnSignals(server)
