// Serves the browser client's built modules to a page as they are published, found through an import map: no bundler between them.
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join, normalize, sep } from 'node:path'

const require = createRequire(import.meta.url)

/** The folder of package `name` as `from` finds it, or `undefined` when it has none. */
function packageFolder(from: string, name: string): string | undefined {
  let folder: string
  try {
    folder = dirname(createRequire(from).resolve(name))
  } catch {
    return undefined
  }
  while (!folder.endsWith(`${sep}${name}`) && folder !== dirname(folder)) folder = dirname(folder)
  return folder
}

const client = dirname(require.resolve('@ipc-state/client/package.json'))
const protocol = dirname(require.resolve('@ipc-state/protocol/package.json'))
/** The folders served under `/lib/<name>/`: only built JavaScript is taken from them. */
const LIBRARIES: Readonly<Record<string, string | undefined>> = {
  client: join(client, 'dist'),
  protocol: join(protocol, 'dist'),
  msgpackr: packageFolder(join(protocol, 'package.json'), 'msgpackr'),
}

/** The import map a page needs for `@ipc-state/client/browser`, each package at its browser entry. */
export const IMPORT_MAP = JSON.stringify({
  imports: {
    '@ipc-state/client/browser': '/lib/client/browser.js',
    '@ipc-state/protocol': '/lib/protocol/index.js',
    '@ipc-state/protocol/wire': '/lib/protocol/wire.js',
    '@ipc-state/protocol/node': '/lib/protocol/node.js',
    msgpackr: '/lib/msgpackr/index.js',
  },
})

/** The JavaScript of `/lib/<library>/<file>`, or `undefined` for any other path. */
export async function readPageModule(path: string): Promise<string | undefined> {
  const match = /^\/lib\/([a-z]+)\/([\w./-]+\.js)$/.exec(path)
  if (match === null) return undefined
  const root = LIBRARIES[match[1]!]
  if (root === undefined) return undefined
  const file = normalize(join(root, match[2]!))
  if (!file.startsWith(root + sep)) return undefined
  return readFile(file, 'utf8').catch(() => undefined)
}
