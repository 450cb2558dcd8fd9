// The inspector page's files, read into memory once when it starts.
import { readdir, readFile } from 'node:fs/promises'
import { extname } from 'node:path'

/** One file of the inspector page, held in memory. */
export interface PageFile {
  body: Buffer
  contentType: string
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
}

// The page ships in the package's public/ folder, beside dist/: one level up from the bundled
// dist/*.js, two from this source file when it runs unbundled.
const CANDIDATES = ['../public/inspector/', '../../public/inspector/']

/**
 * Reads the inspector page's files (HTML, scripts and styles, by name) into memory, so a request
 * can name only them and the process reads no file after it starts.
 *
 * @param folder where they are
 * @default folder the package's `public/inspector/`
 * @throws Error when the folder or its `index.html` is missing
 */
export async function loadPageFiles(folder?: URL): Promise<Map<string, PageFile>> {
  const root = folder ?? (await findPageFolder())
  const files = new Map<string, PageFile>()
  for (const name of await readdir(root)) {
    const contentType = CONTENT_TYPES[extname(name)]
    if (contentType !== undefined) files.set(name, { body: await readFile(new URL(name, root)), contentType })
  }
  if (!files.has('index.html')) throw new Error(`the inspector page is missing from ${root.pathname}`)
  return files
}

async function findPageFolder(): Promise<URL> {
  for (const candidate of CANDIDATES) {
    const url = new URL(candidate, import.meta.url)
    try {
      await readdir(url)
      return url
    } catch {
      // Not this layout: try the next.
    }
  }
  throw new Error(
    `the inspector page is missing: looked in ${CANDIDATES.map((c) => new URL(c, import.meta.url).pathname).join(' and ')}`,
  )
}
