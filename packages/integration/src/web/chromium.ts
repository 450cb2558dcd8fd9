// The real Chromium every browser test drives (the inspector's, the examples' page: as
// `@ipc-state/integration/chromium`): CHROMIUM_PATH, else /usr/bin/chromium, else a `chromium` on the
// PATH. None is a failure that says how to install one, never a skip.
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'
import { type Browser, chromium } from 'playwright-core'

const INSTALL_HINT = 'install it (Debian: apt-get install -y chromium) or set CHROMIUM_PATH to its binary'

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/**
 * The Chromium binary to test with.
 * @throws Error naming where it looked and how to install one
 */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string {
  const given = env.CHROMIUM_PATH
  if (given !== undefined && given !== '') {
    if (isExecutable(given)) return given
    throw new Error(`CHROMIUM_PATH is ${given}, which is not an executable file: ${INSTALL_HINT}`)
  }
  const onPath = (env.PATH ?? '')
    .split(delimiter)
    .filter((folder) => folder !== '')
    .map((folder) => join(folder, 'chromium'))
  const found = ['/usr/bin/chromium', ...onPath].find(isExecutable)
  if (found === undefined)
    throw new Error(`no Chromium found (CHROMIUM_PATH, /usr/bin/chromium, chromium on the PATH): ${INSTALL_HINT}`)
  return found
}

/** A headless Chromium; closing it ends the browser process. */
export async function launchChromium(): Promise<Browser & AsyncDisposable> {
  const browser = await chromium.launch({
    executablePath: findChromium(),
    headless: true,
    // Chromium's sandbox refuses to start as root, which CI containers are.
    args: ['--no-sandbox'],
  })
  return Object.assign(browser, { [Symbol.asyncDispose]: () => browser.close() })
}
