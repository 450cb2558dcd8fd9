import { get } from 'node:http'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findChromium, launchChromium } from '@ipc-state/integration/chromium'
import { logRows, shownVersions, submitCall, waitForCallResult, waitForOfferedAction, waitForTreeValue } from './inspector-page.js'
import { cliEnv, type LineProcess, runCli, startCli, startServer, tempSocketRoot } from './processes.js'

describe('ipc-state inspect, in a real Chromium', () => {
  let folder: Awaited<ReturnType<typeof tempSocketRoot>>
  let server: LineProcess
  let env: Record<string, string>
  let inspect: LineProcess
  let browser: Awaited<ReturnType<typeof launchChromium>>
  let page: Page
  let url: URL

  beforeAll(async () => {
    folder = await tempSocketRoot()
    server = await startServer(folder.socketRoot)
    env = cliEnv(folder.socketRoot)
    inspect = startCli(['inspect'], env)
    const [line, launched] = await Promise.all([inspect.waitForLine((line) => line.startsWith('http://')), launchChromium()])
    url = new URL(line)
    browser = launched
    page = await browser.newPage()
  })
  afterAll(async () => {
    await browser?.[Symbol.asyncDispose]()
    await inspect?.[Symbol.asyncDispose]()
    await server?.[Symbol.asyncDispose]()
    await folder?.[Symbol.asyncDispose]()
  })

  it('prints a page address on 127.0.0.1 with a secret token, served with a same-origin-only policy', async () => {
    expect(url.hostname).toBe('127.0.0.1')
    expect(url.pathname).toMatch(/^\/[A-Za-z0-9_-]{43}\/$/)
    const response = await page.goto(url.href)
    expect(response?.status()).toBe(200)
    const policy = response?.headers()['content-security-policy'] ?? ''
    expect(policy).toContain("default-src 'none'")
    expect(policy).toContain("script-src 'self'")
    expect(policy).not.toContain('unsafe')
    await page.waitForSelector('#status[data-status="live"]')
    await waitForTreeValue(page, 'counter', '0')
    // From server/info: the form offers the store's actions before any was called.
    await waitForOfferedAction(page, 'addMessage')
    await waitForOfferedAction(page, 'increment')
    expect(await logRows(page)).toEqual([])
  })

  it('shows the counter change in the tree while another process calls increment, and logs who did it', async () => {
    expect(await runCli(['call', 'increment', '2'], env)).toMatchObject({ code: 0, stdout: '2' })
    await waitForTreeValue(page, 'counter', '2')
    expect(await runCli(['call', 'increment', '3'], env)).toMatchObject({ code: 0, stdout: '5' })
    await waitForTreeValue(page, 'counter', '5')
    const [newest, older] = await logRows(page)
    expect(newest).toEqual(['2', expect.any(String), 'increment', expect.stringMatching(/^ipc-state-cli-/), 'replace /counter 5'])
    expect(older?.[0]).toBe('1')
  })

  it('calls addMessage from the form and shows the result and the message in the tree', async () => {
    await submitCall(page, 'addMessage', '"hello from the page"')
    expect(await waitForCallResult(page, 'ok', 'result')).toContain('1')
    await waitForTreeValue(page, 'messages.0.text', '"hello from the page"')
    expect(await runCli(['get', 'messages.0.text'], env)).toMatchObject({ code: 0, stdout: '"hello from the page"' })
  })

  it('lists the issues of a BAD_ARGUMENTS error, and says input that is not JSON without sending it', async () => {
    await submitCall(page, 'increment', '"x"')
    const text = await waitForCallResult(page, 'error', 'BAD_ARGUMENTS')
    expect(text).toContain('expected number')
    const issues = await page.locator('#call-result .issues li').allTextContents()
    expect(issues).toEqual([expect.stringMatching(/^input: .*expected number/)])
    await submitCall(page, 'addMessage', 'not json')
    await waitForCallResult(page, 'error', 'NOT_JSON')
    await waitForTreeValue(page, 'counter', '5')
  })

  it('shows a hostile string as text, never as markup', async () => {
    const hostile = '<img src=x id=injected onerror="document.title=1">'
    await submitCall(page, 'addMessage', JSON.stringify(hostile))
    await waitForTreeValue(page, 'messages.1.text', JSON.stringify(hostile))
    expect(await page.locator('#injected').count()).toBe(0)
    expect(await page.locator('#state-tree img, #change-log img').count()).toBe(0)
  })

  it('holds changes back while the log is paused, and shows them on resume', async () => {
    const before = (await logRows(page)).length
    await page.click('#log-pause')
    expect(await runCli(['call', 'increment', '1'], env)).toMatchObject({ code: 0, stdout: '6' })
    await waitForTreeValue(page, 'counter', '6')
    await page.waitForSelector('#log-pending:has-text("1 new")')
    expect(await logRows(page)).toHaveLength(before)
    await page.click('#log-pause')
    await page.locator('#change-log tbody tr[data-version="5"]').waitFor()
    expect(await logRows(page)).toHaveLength(before + 1)
    expect((await logRows(page))[0]?.slice(0, 1)).toEqual(['5'])
  })

  it('lists the connected clients from server/info, the inspector among them', async () => {
    await page.waitForSelector('#clients tbody tr.self')
    const self = await page.textContent('#clients tbody tr.self td')
    expect(self).toMatch(/^ipc-state-cli-\S+ \(this inspector\)$/)
  })

  it('refuses a wrong or missing token, a foreign host, and bad call bodies, and keeps serving', async () => {
    const origin = url.origin
    const token = url.pathname.split('/')[1]!
    const wrong = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`
    for (const path of [`/${wrong}/`, '/', '/index.html', `/${wrong}/events`, `/${token.toUpperCase()}/`]) {
      const response = await fetch(`${origin}${path}`)
      expect(response.status, path).toBe(404)
      expect(await response.text()).toBe('Not found')
    }
    expect((await post(`${origin}/${wrong}/call`, '{"action":"increment"}')).status).toBe(404)
    expect(await statusWithHost(url, 'attacker.example')).toBe(403)
    expect((await post(`${url}call`, '{"action":')).status).toBe(400)
    expect((await post(`${url}call`, '[]')).status).toBe(400)
    expect((await post(`${url}call`, '{"action":"increment"}', 'text/plain')).status).toBe(415)
    expect((await post(`${url}call`, JSON.stringify({ action: 'addMessage', input: 'x'.repeat(2 * 1024 * 1024) }))).status).toBe(
      413,
    )
    const call = await post(`${url}call`, '{"action":"nope"}')
    expect(await call.json()).toMatchObject({ ok: false, error: { code: 'UNKNOWN_ACTION' } })
    expect(inspect.child.exitCode).toBeNull()
  })

  it('exits 0 on Ctrl-C (SIGINT), closing the page stream', async () => {
    inspect.child.kill('SIGINT')
    expect(await inspect.exited).toBe(0)
    expect(inspect.stderr.join('\n')).not.toMatch(/error/i)
    await page.waitForSelector('#status:not([data-status="live"])')
  })
})

/** The status of a GET of `url` naming `host` (fetch may not set Host: a rebound DNS name does). */
function statusWithHost(url: URL, host: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    get(url, { headers: { Host: host } }, (response) => {
      response.resume()
      resolve(response.statusCode)
    }).once('error', reject)
  })
}

function post(url: string, body: string, contentType = 'application/json'): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'Content-Type': contentType }, body })
}

describe('ipc-state inspect, of a server that changed before it started', () => {
  it('shows the changes made before, with local times of day, escaped, and filters them by action, client or text', async () => {
    await using folder = await tempSocketRoot()
    await using server = await startServer(folder.socketRoot)
    const env = cliEnv(folder.socketRoot)
    const hostile = '<img src=x id=early onerror="document.title=1">'
    expect(await runCli(['--client-id', 'writer-a', 'call', 'increment', '2'], env)).toMatchObject({ code: 0, stdout: '2' })
    expect(await runCli(['--client-id', 'writer-a', 'call', 'addMessage', JSON.stringify(hostile)], env)).toMatchObject({
      code: 0,
    })
    expect(await runCli(['--client-id', 'writer-b', 'call', 'increment', '1'], env)).toMatchObject({ code: 0, stdout: '3' })
    await using inspect = startCli(['inspect'], env)
    const [line, browser] = await Promise.all([inspect.waitForLine((text) => text.startsWith('http://')), launchChromium()])
    await using _browser = browser
    const page = await browser.newPage()
    await page.goto(line)
    await page.locator('#change-log tbody tr[data-version="1"]').waitFor()

    const rows = await logRows(page)
    expect(rows.map((row) => row[0])).toEqual(['3', '2', '1'])
    expect(rows[0]).toEqual(['3', expect.stringMatching(LOCAL_TIME), 'increment', 'writer-b', 'replace /counter 3'])
    expect(rows[2]).toEqual(['1', expect.stringMatching(LOCAL_TIME), 'increment', 'writer-a', 'replace /counter 2'])
    expect(rows[1]?.[4]).toContain(hostile.slice(0, 20))
    // The server's time, not a count of milliseconds: the title says the date in full.
    expect(await page.locator('#change-log tbody tr[data-version="1"] td.time').getAttribute('title')).toMatch(
      /\d{4}|\d{1,2}\/\d{1,2}/,
    )
    expect(await page.locator('#early').count()).toBe(0)
    expect(await page.locator('#change-log img').count()).toBe(0)

    await page.fill('#log-filter', 'ADDMESSAGE')
    expect(await shownVersions(page)).toEqual(['2'])
    expect(await page.textContent('#log-shown')).toBe('1 of 3')
    await page.fill('#log-filter', 'writer-b')
    expect(await shownVersions(page)).toEqual(['3'])
    await page.fill('#log-filter', 'img src=x')
    expect(await shownVersions(page)).toEqual(['2'])
    await page.fill('#log-filter', 'increment writer-')
    expect(await shownVersions(page)).toEqual(['3', '1'])
    // A change that comes while filtered shows only when it matches.
    expect(await runCli(['--client-id', 'writer-c', 'call', 'increment', '1'], env)).toMatchObject({ code: 0, stdout: '4' })
    await page.locator('#change-log tbody tr[data-version="4"]').waitFor({ state: 'attached' })
    expect(await shownVersions(page)).toEqual(['4', '3', '1'])
    await page.fill('#log-filter', 'writer-a')
    expect(await shownVersions(page)).toEqual(['2', '1'])
    await page.fill('#log-filter', '')
    expect(await shownVersions(page)).toEqual(['4', '3', '2', '1'])
    expect(await page.textContent('#log-shown')).toBe('')
    expect(server.child.exitCode).toBeNull()
  })
})

/** A time of day with milliseconds, after the date when it is not today. */
const LOCAL_TIME = /^(\d{4}-\d{2}-\d{2} )?\d{2}:\d{2}:\d{2}\.\d{3}$/

describe('ipc-state inspect, before any page', () => {
  it('says in one line that no server is there, and exits 1', async () => {
    await using folder = await tempSocketRoot()
    const run = await runCli(['inspect'], cliEnv(folder.socketRoot))
    expect(run.code).toBe(1)
    expect(run.stdout).toBe('')
    expect(run.stderr).toMatch(/^error: no server at \S+cli\.srv: start the server first/)
    expect(run.stderr.split('\n')).toHaveLength(1)
  })

  it('refuses a port that is not one as a usage error, and a taken port in one line', async () => {
    await using folder = await tempSocketRoot()
    await using server = await startServer(folder.socketRoot)
    const env = cliEnv(folder.socketRoot)
    expect(await runCli(['inspect', '--port', 'http'], env)).toMatchObject({ code: 2, stdout: '' })
    await using first = startCli(['inspect'], env)
    const taken = new URL(await first.waitForLine((line) => line.startsWith('http://'))).port
    const run = await runCli(['inspect', '--port', taken], env)
    expect(run).toMatchObject({
      code: 1,
      stdout: '',
      stderr: `error: port ${taken} is in use on 127.0.0.1: choose another with --port, or leave it out`,
    })
    expect(server.child.exitCode).toBeNull()
  })

  it('fails, not skips, when CHROMIUM_PATH names no browser', () => {
    expect(() => findChromium({ CHROMIUM_PATH: '/nonexistent/chromium' })).toThrow(
      /CHROMIUM_PATH is \/nonexistent\/chromium.*apt-get install -y chromium/,
    )
  })
})
