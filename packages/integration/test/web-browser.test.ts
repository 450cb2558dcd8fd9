// The browser client in a real headless Chromium, against a WebSocket server in a process of its own,
// and over Chromium's own MessagePort, as an Electron renderer's.
import {
  type ClientMessagePort,
  connect,
  type IpcStateClient,
  type WebSocketConstructor,
  webSocketTransport,
} from '@ipc-state/client'
import type { Page } from 'playwright-core'
import { createServer, messagePortTransport } from '@ipc-state/server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { type FixtureProcess, fixture, startFixture } from '../src/processes/processes.js'
import { testStore } from '../src/stores/test-store.js'
import { launchChromium } from '../src/web/chromium.js'
import { bridgePorts } from '../src/web/port-bridge.js'

interface WebListener {
  url: string
  token: string
  port: number
  origin: string
}

/** What the page's code sees: the browser entry, and the client the test made there. */
interface PageGlobals {
  ipcState: typeof import('@ipc-state/client/browser')
  client: IpcStateClient<typeof testStore>
  statuses: string[]
  counters: number[]
  /** See src/web/port-bridge.ts. */
  openBridgedPort(): Promise<ClientMessagePort>
}
declare const window: PageGlobals

const FOREIGN = 'http://foreign.example'

/** Starts the WebSocket server fixture, on `port` with `token` when given (a restart). */
async function startWebServer(port?: number, token?: string): Promise<{ server: FixtureProcess; web: WebListener }> {
  const server = startFixture(fixture('servers/web-socket-server.ts'), {
    env: {
      ...(port === undefined ? {} : { IPC_STATE_WEB_PORT: String(port) }),
      ...(token === undefined ? {} : { IPC_STATE_WEB_TOKEN: token }),
    },
  })
  const web = (await server.waitFor('web')) as unknown as WebListener
  await server.waitFor('ready')
  return { server, web }
}

/** Makes a client in the page and keeps what it sees on `window`; resolves with its first counter. */
function connectInPage(page: Page, web: WebListener, token = web.token): Promise<number> {
  return page.evaluate(
    async ({ url, token }) => {
      const { connect, webSocketTransport, exponentialBackoff } = window.ipcState
      window.statuses = []
      window.counters = []
      const client = await connect<typeof testStore>({
        transport: webSocketTransport({ url, token }),
        clientId: 'chromium',
        connectAttempts: 3,
        retryDelay: exponentialBackoff({ initial: 50, max: 200 }),
      })
      window.client = client
      client.onStatusChange((status) => window.statuses.push(status))
      client.subscribe(
        (state) => state.counter,
        (counter) => window.counters.push(counter),
      )
      return client.state.counter
    },
    { url: web.url, token },
  )
}

describe('the browser client in a real Chromium', () => {
  let server: FixtureProcess
  let web: WebListener
  let browser: Awaited<ReturnType<typeof launchChromium>>
  let page: Page
  let node: IpcStateClient<typeof testStore>

  beforeAll(async () => {
    const [started, launched] = await Promise.all([startWebServer(), launchChromium()])
    ;({ server, web } = started)
    browser = launched
    page = await browser.newPage()
    node = await connect<typeof testStore>({
      transport: webSocketTransport({ url: web.url, token: web.token, WebSocket: WebSocket as unknown as WebSocketConstructor }),
      clientId: 'node',
      reconnectAttempts: 0,
    })
  })
  afterAll(async () => {
    await node?.close()
    await browser?.[Symbol.asyncDispose]()
    await server?.[Symbol.asyncDispose]()
  })

  it('loads the published browser entry through an import map, and keeps a live replica as another process writes', async () => {
    const errors: string[] = []
    page.on('pageerror', (error) => errors.push(error.message))
    await page.goto(`${web.origin}/page/`)
    await page.waitForSelector('body[data-ready="yes"]', { state: 'attached' })
    expect(await connectInPage(page, web)).toBe(0)
    expect(await node.actions.increment(2)).toBe(2)
    expect(await node.actions.increment(3)).toBe(5)
    await page.waitForFunction(() => window.client.state.counter === 5)
    expect(await page.evaluate(() => window.counters)).toEqual([2, 5])
    expect(errors).toEqual([])
  })

  it('calls an action from the page, answered with its result, and the other process sees it', async () => {
    expect(await page.evaluate(() => window.client.actions.increment(10))).toBe(15)
    expect(await page.evaluate(() => window.client.actions.addMessage('from Chromium'))).toBe(1)
    await node.waitFor((state) => state.counter === 15 && state.messages[0]?.text === 'from Chromium')
    expect(node.state.messages[0]?.from).toBe('chromium')
  })

  it('reconnects after the server process restarts, takes the new server’s state, and calls on', async () => {
    const { port, token } = web
    await server.stop('SIGTERM')
    await page.waitForFunction(() => window.statuses.includes('reconnecting'))
    ;({ server, web } = await startWebServer(port, token))
    await page.waitForFunction(() => window.client.status === 'connected' && window.client.state.counter === 0)
    expect(await page.evaluate(() => window.client.actions.increment(4))).toBe(4)
    expect(await page.evaluate(() => window.statuses)).toEqual(['reconnecting', 'connected'])
  })

  it('is refused with a wrong token: the page’s client gives up as with no server', async () => {
    const wrong = `${web.token.slice(0, -1)}${web.token.endsWith('A') ? 'B' : 'A'}`
    const refused = await page.evaluate(
      async ({ url, token }) => {
        const { connect, webSocketTransport } = window.ipcState
        try {
          await connect({ transport: webSocketTransport({ url, token }), connectAttempts: 2, retryDelay: () => 10 })
          return 'connected'
        } catch (error) {
          return (error as { code?: string }).code
        }
      },
      { url: web.url, token: wrong },
    )
    expect(refused).toBe('SERVER_UNAVAILABLE')
    // Refused, not unreachable: the page's own client, with the right token, calls on.
    expect(await page.evaluate(() => window.client.actions.increment(0))).toBe(4)
  })

  it('is refused from a foreign origin even with the right token', async () => {
    const foreign = await browser.newPage()
    // The foreign origin serves the same page and modules; only its origin differs.
    await foreign.route(`${FOREIGN}/**`, async (route) => {
      const { pathname } = new URL(route.request().url())
      await route.fulfill({ response: await route.fetch({ url: `${web.origin}${pathname}` }) })
    })
    await foreign.goto(`${FOREIGN}/page/`)
    await foreign.waitForSelector('body[data-ready="yes"]', { state: 'attached' })
    const refused = await foreign.evaluate(
      async ({ url, token }) => {
        const { connect, webSocketTransport } = window.ipcState
        try {
          await connect({ transport: webSocketTransport({ url, token }), connectAttempts: 2, retryDelay: () => 10 })
          return 'connected'
        } catch (error) {
          return (error as { code?: string }).code ?? String(error)
        }
      },
      { url: web.url, token: web.token },
    )
    expect(refused).toBe('SERVER_UNAVAILABLE')
    await foreign.close()
    // The page of the listener's own origin still calls.
    expect(await page.evaluate(() => window.client.actions.increment(1))).toBe(5)
  })

  it('serves a page’s client over Chromium’s own MessagePort, joined to a server’s port as Electron joins a renderer’s', async () => {
    const ports = messagePortTransport({ name: 'page ports' })
    await using portServer = await createServer({ store: testStore, transport: ports })
    const portPage = await browser.newPage()
    const errors: string[] = []
    portPage.on('pageerror', (error) => errors.push(error.message))
    await bridgePorts(portPage, (port) => ports.accept(port))
    await portPage.goto(`${web.origin}/page/`)
    await portPage.waitForSelector('body[data-ready="yes"]', { state: 'attached' })
    const first = await portPage.evaluate(async () => {
      const { connect, messagePortTransport } = window.ipcState
      window.client = await connect<typeof testStore>({
        transport: messagePortTransport({ openPort: () => window.openBridgedPort() }),
        clientId: 'renderer',
      })
      return window.client.state.counter
    })
    expect(first).toBe(0)
    await portServer.actions.increment(3)
    await portPage.waitForFunction(() => window.client.state.counter === 3)
    expect(await portPage.evaluate(() => window.client.actions.increment(4))).toBe(7)
    expect(portServer.state.counter).toBe(7)
    expect(await portPage.evaluate(() => window.client.actions.addMessage('from a renderer'))).toBe(1)
    expect(portServer.state.messages.map((message) => [message.text, message.from])).toEqual([['from a renderer', 'renderer']])
    await portPage.evaluate(() => window.client.close())
    expect(errors).toEqual([])
    await portPage.close()
  })
})
