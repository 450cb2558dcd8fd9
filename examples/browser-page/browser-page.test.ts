// The browser-page example in a real headless Chromium, beside the counter example's client in processes of its own.
import { launchChromium } from '@ipc-state/integration/chromium'
import type { Page } from 'playwright-core'
import { afterEach, expect, it } from 'vitest'
import { runExample, stopExamples } from '../support/run-example.js'

afterEach(stopExamples)

/** The part of the page's document the functions run in the page read. */
declare const document: { getElementById(id: string): { textContent: string | null } | null }

const counterShown = (page: Page, counter: number) =>
  page.waitForFunction((expected) => document.getElementById('counter')?.textContent === String(expected), counter)

/** Runs the counter example's client, which increments `times` times over the Unix socket; resolves with what it printed. */
async function incrementFromAnotherProcess(times: number): Promise<string[]> {
  const client = runExample('counter/client.ts', [String(times)])
  expect((await client.exited).code).toBe(0)
  return client.lines
}

it('shows in a real Chromium the counter another process changes, and its button calls increment', async () => {
  const server = runExample('browser-page/server.ts')
  await using browser = await launchChromium()
  const address = new URL((await server.waitForLine(/^open /)).slice('open '.length))
  expect(address.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
  const token = /^#token=([\w-]+)$/.exec(address.hash)![1]!
  await server.waitForLine(/^listening at /)

  const page = await browser.newPage()
  const errors: string[] = []
  page.on('pageerror', (error) => errors.push(error.message))
  const sent: string[] = []
  page.on('request', (request) => sent.push(request.url()))
  page.on('websocket', (socket) => sent.push(socket.url()))
  await page.goto(address.href)
  await page.waitForSelector('body[data-status="connected"]', { state: 'attached' })
  await counterShown(page, 0)

  expect(await incrementFromAnotherProcess(3)).toEqual(['counter: 3'])
  await counterShown(page, 3)
  await page.click('#increment')
  await counterShown(page, 4)
  // The click went through the server: the next process counts on from it.
  expect(await incrementFromAnotherProcess(1)).toEqual(['counter: 5'])
  await counterShown(page, 5)
  expect(errors).toEqual([])

  // The page, its script and its WebSocket, none with the token: it stayed in the fragment.
  expect(sent).toEqual(expect.arrayContaining([`${address.origin}/`, `${address.origin}/page.js`, `ws://${address.host}/`]))
  for (const url of sent) expect(url).not.toContain(token)
})
