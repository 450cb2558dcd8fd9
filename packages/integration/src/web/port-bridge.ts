// Joins a MessagePort in a Chromium page to a server's message-port transport in this process, as
// Electron joins a renderer's port to the main process's: what crosses is what the two ports post.
// Named apart from the page's own `MessageChannel`, which the init script uses.
import { MessageChannel as NodeChannel, type MessagePort } from 'node:worker_threads'
import type { ClientMessagePort } from '@ipc-state/client'
import type { Page } from 'playwright-core'

/** What one port posted, in a form the page and this process can both hand over. */
type Posted = { bytes: number[] } | { count: number } | { goodbye: true }

/** A page's MessagePort, as the bridge uses it (the DOM's types are not this package's). */
interface PagePort {
  postMessage(message: unknown, transfer?: ArrayBuffer[]): void
  onmessage: ((event: { data: unknown }) => void) | null
}

/** What the page's side of the bridge installs on `window`. */
interface BridgeGlobals {
  /** A new port whose messages cross to a new port of the server's transport. */
  openBridgedPort(): Promise<ClientMessagePort>
  /** Delivers what the server's port posted to the page's port `id`. */
  fromServer(id: number, posted: Posted): void
  toServer(id: number, posted: Posted): Promise<void>
  openServerPort(): Promise<number>
}
declare const window: BridgeGlobals

function encode(message: unknown): Posted {
  if (message instanceof ArrayBuffer) return { bytes: [...new Uint8Array(message)] }
  if (typeof message === 'number') return { count: message }
  return { goodbye: true }
}

/**
 * Installs the bridge in `page` (before it loads): `window.openBridgedPort()` gives the page a port
 * of a real `MessageChannel` of Chromium, whose other end is joined, message by message, to a Node
 * `MessageChannel` whose other end `accept` gives the server.
 */
export async function bridgePorts(page: Page, accept: (port: MessagePort) => void): Promise<void> {
  const ports = new Map<number, MessagePort>()
  await page.exposeFunction('openServerPort', () => {
    const { port1, port2 } = new NodeChannel()
    accept(port1)
    const id = ports.size + 1
    ports.set(id, port2)
    port2.on('message', (message: unknown) => {
      void page.evaluate(([id, posted]) => window.fromServer(id, posted), [id, encode(message)] as const).catch(() => undefined)
    })
    return id
  })
  await page.exposeFunction('toServer', (id: number, posted: Posted) => {
    const port = ports.get(id)
    if ('bytes' in posted) {
      const bytes = new Uint8Array(posted.bytes).buffer
      port?.postMessage(bytes, [bytes])
    } else port?.postMessage('count' in posted ? posted.count : null)
  })
  await page.addInitScript(() => {
    const pagePorts = new Map<number, PagePort>()
    const encodeInPage = (message: unknown): Posted => {
      if (message instanceof ArrayBuffer) return { bytes: [...new Uint8Array(message)] }
      if (typeof message === 'number') return { count: message }
      return { goodbye: true }
    }
    window.fromServer = (id, posted) => {
      const port = pagePorts.get(id)
      if ('bytes' in posted) {
        const bytes = new Uint8Array(posted.bytes).buffer
        port?.postMessage(bytes, [bytes])
      } else port?.postMessage('count' in posted ? posted.count : null)
    }
    window.openBridgedPort = async () => {
      const id = await window.openServerPort()
      const { port1, port2 } = new MessageChannel() as unknown as { port1: ClientMessagePort; port2: PagePort }
      pagePorts.set(id, port2)
      port2.onmessage = (event) => void window.toServer(id, encodeInPage(event.data))
      return port1
    }
  })
}
