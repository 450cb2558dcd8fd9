// What a WebSocket upgrade request must show before it becomes a connection: our Host, an allowed Origin, the token.
import { WEB_SOCKET_PROTOCOL, WEB_SOCKET_TOKEN_PREFIX } from '@ipc-state/protocol/wire'
import { tokenMatches } from './token.js'

/** The headers and path of an upgrade request, as the checks read them. */
export interface UpgradeRequest {
  /** The request's path and query, as sent. */
  url: string | undefined
  host: string | undefined
  origin: string | undefined
  /** `Sec-WebSocket-Protocol`, as sent. */
  protocols: string | undefined
}

/** What the checks compare the request with. */
export interface UpgradeRules {
  token: string
  /** The path the listener serves on. */
  path: string
  /** `Host` headers that name this listener (`127.0.0.1:<port>`, `localhost:<port>`, …). */
  hosts: ReadonlySet<string>
  /** Origins whose pages may connect. */
  origins: ReadonlySet<string>
}

/** A refusal, as the HTTP answer that carries it. */
export interface Refusal {
  status: 401 | 403 | 404
  reason: string
}

/**
 * Why `request` must not become a connection, if it must not. Checked in this order: a `Host`
 * that names another machine (a rebound DNS name) is 403, an `Origin` outside the allow-list is
 * 403, another path is 404, and a missing or wrong token is 401. A request without `Origin` comes
 * from no page (browsers always send it on a WebSocket), so only its token is checked.
 */
export function upgradeRefusal(request: UpgradeRequest, rules: UpgradeRules): Refusal | undefined {
  if (request.host === undefined || !rules.hosts.has(request.host.toLowerCase())) {
    return { status: 403, reason: 'Forbidden host' }
  }
  if (request.origin !== undefined && !rules.origins.has(request.origin.toLowerCase())) {
    return { status: 403, reason: 'Forbidden origin' }
  }
  const path = (request.url ?? '/').split('?')[0]
  if (path !== rules.path) return { status: 404, reason: 'Not found' }
  const offered = parseProtocols(request.protocols)
  const token = offered.find((protocol) => protocol.startsWith(WEB_SOCKET_TOKEN_PREFIX))
  if (!offered.includes(WEB_SOCKET_PROTOCOL) || token === undefined) return { status: 401, reason: 'Unauthorized' }
  if (!tokenMatches(rules.token, token.slice(WEB_SOCKET_TOKEN_PREFIX.length))) return { status: 401, reason: 'Unauthorized' }
  return undefined
}

/** The subprotocols of a `Sec-WebSocket-Protocol` header; at most 8 are looked at. */
export function parseProtocols(header: string | undefined): string[] {
  if (header === undefined) return []
  return header
    .split(',')
    .slice(0, 8)
    .map((protocol) => protocol.trim())
}

/**
 * The `Host` headers that name a listener at `host:port`: the address itself, and `localhost` for
 * a loopback address.
 */
export function listenerHosts(host: string, port: number): string[] {
  const named = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`
  const loopback = host === '127.0.0.1' || host === '::1'
  return loopback ? [named, `localhost:${port}`] : [named]
}
