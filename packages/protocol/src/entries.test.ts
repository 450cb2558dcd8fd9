// Each published entry exports exactly what the README's section for it lists, and each export is
// the defining module's own binding.
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import * as actionModule from './action.js'
import * as applyPatches from './apply-patches.js'
import * as defaults from './defaults.js'
import * as defineStore from './define-store.js'
import * as errors from './errors.js'
import * as main from './index.js'
import mainSource from './index.ts?raw'
import * as logger from './logger.js'
import * as messages from './messages.js'
import * as node from './node/index.js'
import nodeSource from './node/index.ts?raw'
import * as localSocketRoot from './node/local-socket-root.js'
import * as readAsBytes from './node/read-as-bytes.js'
import * as serverAnswers from './server-answers.js'
import * as socketPath from './node/socket-path.js'
import * as binaryFrame from './wire/binary-frame.js'
import * as decodeClient from './wire/decode-client.js'
import * as decodeServer from './wire/decode-server.js'
import * as encode from './wire/encode.js'
import * as frame from './wire/frame.js'
import * as frameCost from './wire/frame-cost.js'
import * as wire from './wire/index.js'
import wireSource from './wire/index.ts?raw'
import * as jsonPack from './wire/json-pack.js'
import * as validate from './wire/validate.js'
import * as webSocket from './wire/web-socket.js'
import readme from '../README.md?raw'

const entries = [
  { name: '@ipc-state/protocol', file: 'index.ts', source: mainSource, module: main },
  { name: '@ipc-state/protocol/wire', file: 'wire/index.ts', source: wireSource, module: wire },
  { name: '@ipc-state/protocol/node', file: 'node/index.ts', source: nodeSource, module: node },
]

const modules: Record<string, unknown>[] = [
  actionModule,
  applyPatches,
  defaults,
  defineStore,
  errors,
  logger,
  messages,
  localSocketRoot,
  readAsBytes,
  serverAnswers,
  socketPath,
  binaryFrame,
  decodeClient,
  decodeServer,
  encode,
  frame,
  frameCost,
  jsonPack,
  validate,
  webSocket,
]

/** The names the README lists after `label:` in the section of `entry`, in the order written. */
function documented(entry: string, label: 'Values' | 'Types'): string[] {
  const start = readme.indexOf(`\n## \`${entry}\`\n`)
  expect(start, `a README section for ${entry}`).toBeGreaterThan(0)
  const end = readme.indexOf('\n## ', start + 1)
  const section = `${readme.slice(start, end === -1 ? undefined : end)}\n\n`
  const list = section.match(new RegExp(`\\n${label}: ([\\s\\S]*?)\\n\\n`))
  expect(list, `a "${label}:" list for ${entry}`).not.toBeNull()
  return [...list![1]!.matchAll(/`([A-Za-z_$][\w$]*)`/g)].map((match) => match[1]!)
}

/** What an entry's source exports, values and types apart, read from its export declarations. */
function declared(file: string, text: string): { values: string[]; types: string[] } {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest)
  const values: string[] = []
  const types: string[] = []
  for (const statement of source.statements) {
    if (!ts.isExportDeclaration(statement)) continue
    expect(statement.exportClause && ts.isNamedExports(statement.exportClause), `${file} lists each export by name`).toBe(true)
    for (const element of (statement.exportClause as ts.NamedExports).elements) {
      ;(statement.isTypeOnly || element.isTypeOnly ? types : values).push(element.name.text)
    }
  }
  return { values, types }
}

const sorted = (names: string[]) => [...names].sort()

describe.each(entries)('the entry $name', ({ name, file, source, module }) => {
  it('exports at run time exactly the values its README section lists', () => {
    const values = documented(name, 'Values')
    expect(new Set(values).size, 'no name listed twice').toBe(values.length)
    expect(sorted(Object.keys(module))).toEqual(sorted(values))
    expect(sorted(declared(file, source).values)).toEqual(sorted(values))
  })

  it('exports exactly the types its README section lists', () => {
    const types = documented(name, 'Types')
    expect(new Set(types).size, 'no name listed twice').toBe(types.length)
    expect(sorted(declared(file, source).types)).toEqual(sorted(types))
  })

  it('re-exports the modules’ own bindings, not copies', () => {
    for (const [key, value] of Object.entries(module)) {
      const owner = modules.find((m) => Object.hasOwn(m, key))
      expect(owner, key).toBeDefined()
      expect(value, key).toBe(owner![key])
    }
  })
})

describe('the entries', () => {
  it('share no name: each export has one home', () => {
    const all = entries.flatMap(({ file, source }) => {
      const { values, types } = declared(file, source)
      return [...values, ...types]
    })
    expect(all.length).toBe(new Set(all).size)
  })
})
