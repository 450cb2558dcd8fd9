// Makes docs/inspector.png: the fixture server with a demo-like state, two clients that change
// it, and `ipc-state inspect` open in a headless Chromium after a call from its form.
// Run after a build: `pnpm --filter @ipc-state/cli screenshot [out.png]`.
import { fileURLToPath } from 'node:url'
import { connect } from '@ipc-state/client'
import { launchChromium } from '@ipc-state/integration/chromium'
import { submitCall, waitForCallResult, waitForTreeValue } from '../test/inspector-page.js'
import { APPSPACE, startCli, startServer, tempSocketRoot } from '../test/processes.js'

const out = process.argv[2] ?? fileURLToPath(new URL('../../../docs/inspector.png', import.meta.url))

await using folder = await tempSocketRoot()
await using _server = await startServer(folder.socketRoot)
const address = { socketRoot: folder.socketRoot, appspace: APPSPACE, id: 'srv' }
await using writer = await connect({ ...address, clientId: 'writer-7f3a' })
await using worker = await connect({ ...address, clientId: 'worker-2c91', replica: false })

await writer.call('addMessage', 'server up, writers joining')
await writer.call('increment', 1)
await worker.call('increment', 2)
await worker.call('addMessage', 'worker 2 finished batch 17')

await using inspect = startCli(['inspect'], {
  IPC_STATE_SOCKET_ROOT: folder.socketRoot,
  IPC_STATE_APPSPACE: APPSPACE,
  IPC_STATE_ID: 'srv',
})
const url = await inspect.waitForLine((line) => line.startsWith('http://'))
await using browser = await launchChromium()
const page = await browser.newPage({ viewport: { width: 1280, height: 860 }, deviceScaleFactor: 1, colorScheme: 'light' })
await page.goto(url)
await page.waitForSelector('#status[data-status="live"]')

// Changes while the page is open, to fill its log the way a user sees it.
await writer.call('increment', 5)
await worker.call('addMessage', 'cache warmed: 1,204 entries')
await waitForTreeValue(page, 'counter', '8')
await submitCall(page, 'addMessage', '"hello from the inspector"')
await waitForCallResult(page, 'ok', 'result')
await waitForTreeValue(page, 'messages.3.text', '"hello from the inspector"')
await submitCall(page, 'increment', '"x"')
await waitForCallResult(page, 'error', 'BAD_ARGUMENTS')
await page.waitForSelector('#clients tbody tr:nth-child(3)')
// The new-value highlight fades in 1.2 s: wait for the page to say its animations ended.
await page.waitForFunction('document.getAnimations().length === 0')

await page.screenshot({ path: out, fullPage: true })
process.stdout.write(`wrote ${out}\n`)
