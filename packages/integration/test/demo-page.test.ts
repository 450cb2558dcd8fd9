// The demo's web page in a real Chromium: the demo's server with IPC_STATE_WEB_PORT, and other demo processes that call increment.
import { request } from 'node:http'
import { fileURLToPath } from 'node:url'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FixtureProcess, startFixture, type TempSocketRoot, tempSocketRoot } from '../src/processes/processes.js'
import { launchChromium } from '../src/web/chromium.js'

/** A program of apps/demo, run as `pnpm run <name>` runs it. */
const demoScript = (name: string): string => fileURLToPath(new URL(`../../../apps/demo/src/${name}.ts`, import.meta.url))

/** Runs the demo's incrementer once, by `by`, to its end; resolves with the counter it printed. */
async function incrementFromAnotherProcess(socketRoot: string, by: number): Promise<number> {
  await using incrementer = startFixture(demoScript('incrementer'), {
    args: ['--count', '1', '--by', String(by)],
    env: { IPC_STATE_SOCKET_ROOT: socketRoot },
  })
  const line = await incrementer.waitForLine((text) => text.startsWith('counter is '))
  expect(await incrementer.exited).toEqual({ code: 0, signal: null })
  return Number(/^counter is (-?\d+) /.exec(line)![1])
}

/** What a plain HTTP request to the page's port gets, with `headers` as given (a Host of our choosing). */
function fetchRaw(port: number, path: string, options: { method?: string; host?: string } = {}) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const sent = request(
      { host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: { Host: options.host ?? `127.0.0.1:${port}` } },
      (response) => {
        let body = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => (body += chunk))
        response.on('end', () => resolve({ status: response.statusCode!, body }))
      },
    )
    sent.on('error', reject)
    sent.end()
  })
}

/** The part of the page's document the functions run in the page read. */
declare const document: { getElementById(id: string): { textContent: string | null } | null }

const counterShown = (page: Page, counter: number) =>
  page.waitForFunction((expected) => document.getElementById('counter')?.textContent === String(expected), counter)

describe('the demo’s web page (IPC_STATE_WEB_PORT)', () => {
  let root: TempSocketRoot
  let server: FixtureProcess
  let browser: Browser & AsyncDisposable
  let address: URL

  beforeAll(async () => {
    root = await tempSocketRoot()
    server = startFixture(demoScript('server'), { env: { IPC_STATE_SOCKET_ROOT: root.socketRoot, IPC_STATE_WEB_PORT: '0' } })
    const [web, launched] = await Promise.all([server.waitForLine((line) => line.startsWith('web: open ')), launchChromium()])
    browser = launched
    address = new URL(web.slice('web: open '.length))
    await server.waitForLine((line) => line.startsWith('ready: '))
  })
  afterAll(async () => {
    await browser?.[Symbol.asyncDispose]()
    if (server !== undefined) expect(await server.stop('SIGTERM')).toEqual({ code: 0, signal: null })
    await root?.[Symbol.asyncDispose]()
  })

  it('prints a page on 127.0.0.1 with its token in the fragment, which no request carries', () => {
    expect(address.protocol).toBe('http:')
    expect(address.hostname).toBe('127.0.0.1')
    expect(address.pathname).toBe('/')
    expect(address.hash).toMatch(/^#token=[\w-]{43}$/)
  })

  it('shows the counter change when another process calls increment, and its button calls increment', async () => {
    const page = await browser.newPage()
    const errors: string[] = []
    page.on('pageerror', (error) => errors.push(error.message))
    await page.goto(address.href)
    await page.waitForSelector('body[data-status="connected"]', { state: 'attached' })
    await counterShown(page, 0)

    expect(await incrementFromAnotherProcess(root.socketRoot, 3)).toBe(3)
    await counterShown(page, 3)

    await page.click('#increment')
    await counterShown(page, 4)
    // The click went through the server: the next process's call counts on from it.
    expect(await incrementFromAnotherProcess(root.socketRoot, 1)).toBe(5)
    await counterShown(page, 5)
    expect(errors).toEqual([])
    await page.close()
  })

  it('connects no client without the token: the page says how to open it', async () => {
    const page = await browser.newPage()
    await page.goto(`${address.origin}/`)
    await page.waitForSelector('#problem:not([hidden])')
    expect(await page.textContent('#problem')).toContain('#token=')
    expect(await page.textContent('#counter')).toBe('…')
    await page.close()
  })

  it('serves its page only under its own Host, only to GET, and nothing but the page and its script', async () => {
    const port = Number(address.port)
    const page = await fetchRaw(port, '/')
    expect(page.status).toBe(200)
    // The page holds no secret: the token is only in the address the server printed.
    expect(page.body).not.toContain(address.hash.slice('#token='.length))
    expect((await fetchRaw(port, '/', { host: 'rebound.example' })).status).toBe(403)
    expect((await fetchRaw(port, '/page.js', { host: `rebound.example:${port}` })).status).toBe(403)
    expect((await fetchRaw(port, '/', { method: 'POST' })).status).toBe(405)
    expect((await fetchRaw(port, '/../src/server.ts')).status).toBe(404)
    expect((await fetchRaw(port, '/page.ts')).status).toBe(404)
    // The bundled script is the browser client, with no Node.js module in it.
    const script = await fetchRaw(port, '/page.js', { host: `localhost:${port}` })
    expect(script.status).toBe(200)
    expect(script.body).toContain('webSocketTransport')
    expect(script.body).not.toMatch(/\bfrom\s*["'](node:)?(fs|os|net|path)["']/)
  })
})
