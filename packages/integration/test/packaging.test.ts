import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const run = promisify(execFile)
const here = fileURLToPath(new URL('..', import.meta.url))

/** What each built package must offer a consumer, by name. */
const expected = {
  '@ipc-state/protocol': ['defineStore', 'IpcStateError', 'ErrorCode', 'applyPatches'],
  '@ipc-state/protocol/wire': ['encodeClientMessage', 'decodeServerMessage', 'WireDecoder', 'ClientMessageType'],
  '@ipc-state/protocol/node': ['resolveSocketPath', 'localSocketRoot', 'defaultSocketRoot'],
  '@ipc-state/server': [
    'createServer',
    'closeOnSignals',
    'defineStore',
    'IpcStateError',
    'unixSocketTransport',
    'messagePortTransport',
  ],
  '@ipc-state/client': [
    'connect',
    'exponentialBackoff',
    'IpcStateError',
    'isIpcStateError',
    'messagePortTransport',
    'webSocketTransport',
  ],
  '@ipc-state/client/browser': ['connect', 'messagePortTransport', 'webSocketTransport', 'IpcStateError'],
  '@ipc-state/server/testing': ['memoryTransport', 'isReply'],
  '@ipc-state/redis/testing': ['readCalls', 'readReplies'],
  '@ipc-state/server/websocket': ['listenWebSocket'],
}

const program = (load: (name: string) => string) =>
  Object.entries(expected)
    .map(
      ([name, exports]) =>
        `{ const m = ${load(name)}; for (const e of ${JSON.stringify(exports)}) if (typeof m[e] !== 'function' && typeof m[e] !== 'object') throw new Error('${name} lacks ' + e) }`,
    )
    .join('\n') + `\nconsole.log('loaded')`

describe('the built packages, as a consumer loads them', () => {
  it('load through require() in CommonJS', async () => {
    const { stdout } = await run(process.execPath, ['--input-type=commonjs', '-e', program((name) => `require('${name}')`)], {
      cwd: here,
    })
    expect(stdout.trim()).toBe('loaded')
  })

  it('load through import in ES modules', async () => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', program((name) => `await import('${name}')`)], {
      cwd: here,
    })
    expect(stdout.trim()).toBe('loaded')
  })

  it('serve and call from CommonJS, node-ipc included', async () => {
    const code = `
      const { createServer, defineStore } = require('@ipc-state/server')
      const { connect } = require('@ipc-state/client')
      const { mkdtempSync, rmSync } = require('node:fs')
      ;(async () => {
        const dir = mkdtempSync('/tmp/ipcs-cjs-')
        const store = defineStore({ initialState: { n: 0 }, actions: { inc(state) { state.n += 1; return state.n } } })
        const server = await createServer({ store, socketRoot: dir + '/', id: 'cjs' })
        const client = await connect({ socketRoot: dir + '/', id: 'cjs' })
        const value = await client.actions.inc()
        console.log(JSON.stringify([value, client.state.n]))
        await client.close()
        await server.close()
        rmSync(dir, { recursive: true })
      })()`
    const { stdout } = await run(process.execPath, ['--input-type=commonjs', '-e', code], { cwd: here })
    expect(JSON.parse(stdout)).toEqual([1, 1])
  })

  it('share one error class per module system, recognised across copies by isIpcStateError', async () => {
    const code = `
      const { IpcStateError } = require('@ipc-state/protocol')
      const { isIpcStateError } = require('@ipc-state/client')
      import('@ipc-state/protocol').then((esm) => {
        const fromEsm = new esm.IpcStateError('TIMEOUT', 'x')
        console.log(JSON.stringify([fromEsm instanceof IpcStateError, isIpcStateError(fromEsm)]))
      })`
    const { stdout } = await run(process.execPath, ['--input-type=commonjs', '-e', code], { cwd: here })
    // The ESM and CommonJS builds are two copies of the class; the guard still knows both.
    expect(JSON.parse(stdout)).toEqual([false, true])
  })
  it('share that one class between the entries of the protocol, in each module system', async () => {
    // An error made by the wire's decoder or the socket path rule is an instance of the class the
    // main entry exports: the entries share one copy of it, not one each.
    const check = (load: (name: string) => string) => `
      const { IpcStateError } = ${load('@ipc-state/protocol')}
      const { decodeClientMessage } = ${load('@ipc-state/protocol/wire')}
      const { resolveSocketPath } = ${load('@ipc-state/protocol/node')}
      let thrown
      try { resolveSocketPath({ id: 'x'.repeat(200) }) } catch (error) { thrown = error }
      const decoded = decodeClientMessage('not json')
      console.log(JSON.stringify([decoded.error instanceof IpcStateError, thrown instanceof IpcStateError, thrown.code]))`
    const commonjs = await run(process.execPath, ['--input-type=commonjs', '-e', check((name) => `require('${name}')`)], {
      cwd: here,
    })
    expect(JSON.parse(commonjs.stdout)).toEqual([true, true, 'PATH_TOO_LONG'])
    const esm = await run(process.execPath, ['--input-type=module', '-e', check((name) => `await import('${name}')`)], {
      cwd: here,
    })
    expect(JSON.parse(esm.stdout)).toEqual([true, true, 'PATH_TOO_LONG'])
  })
})
