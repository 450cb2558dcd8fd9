// The server's description from server/info: a summary line and one row per connected client.
import { el } from './dom.js'

/**
 * @param {{ body: HTMLElement, count: HTMLElement, summary: HTMLElement }} parts
 */
export function createClientList({ body, count, summary }) {
  return {
    /**
     * @param {{ info?: any, error?: string }} event
     * @param {string} self the inspector's own client id
     */
    render(event, self) {
      if (event.error !== undefined) {
        summary.textContent = `could not ask the server: ${event.error}`
        return
      }
      const info = event.info
      count.textContent = `(${info.connectionCount})`
      summary.textContent =
        `up ${duration(info.uptimeMs)}, ${info.counters.calls} calls, ${info.counters.changes} changes, ` +
        `protocol ${info.protocol}, epoch ${info.epoch}`
      body.replaceChildren(
        ...info.connections.map((connection) =>
          el('tr', { className: connection.clientId === self ? 'self' : '', data: { clientId: connection.clientId } }, [
            el('td', { text: connection.clientId === self ? `${connection.clientId} (this inspector)` : connection.clientId }),
            el('td', { className: 'muted', text: connection.instanceId.slice(0, 8), title: connection.instanceId }),
            el('td', { text: connection.replica ? 'yes' : 'no' }),
            el('td', { className: 'num', text: String(connection.inFlight) }),
            el('td', { className: 'num', text: bytes(connection.queuedBytes) }),
          ]),
        ),
      )
    },
  }
}

function duration(ms) {
  const seconds = Math.floor(ms / 1000)
  if (seconds < 60) return `${seconds}s`
  const minutes = Math.floor(seconds / 60)
  return minutes < 60 ? `${minutes}m ${seconds % 60}s` : `${Math.floor(minutes / 60)}h ${minutes % 60}m`
}

function bytes(count) {
  return count < 1024 ? `${count} B` : `${Math.round(count / 102.4) / 10} KiB`
}
