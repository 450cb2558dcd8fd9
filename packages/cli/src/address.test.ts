import { lstatSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { localSocketRoot } from '@ipc-state/protocol/node'
import { describe, expect, it } from 'vitest'
import { resolveAddress, socketPathOf } from './address.js'
import { CliError, ExitCode } from './exit-codes.js'

describe('resolveAddress', () => {
  it("leaves the socket folder and appspace to connect's defaults, so an id alone names a server made with them", () => {
    expect(resolveAddress({ id: 'app' }, {})).toEqual({ id: 'app' })
    expect(socketPathOf(resolveAddress({ id: 'app' }, {}))).toBe(`${localSocketRoot({ process, lstatSync, tmpdir })}app.app`)
    expect(socketPathOf(resolveAddress({}, { IPC_STATE_ID: 'app' }))).toMatch(/ipc-state(-\d+)?\/app\.app$/)
  })

  it('asks for an id when neither it nor a path is given', () => {
    for (const env of [{}, { IPC_STATE_ID: '' }]) {
      let thrown: unknown
      try {
        resolveAddress({}, env)
      } catch (error) {
        thrown = error
      }
      expect(thrown).toBeInstanceOf(CliError)
      expect((thrown as CliError).exitCode).toBe(ExitCode.USAGE)
      expect((thrown as CliError).message).toContain('--id')
    }
  })

  it('takes each part from its flag, else its environment variable', () => {
    const env = { IPC_STATE_SOCKET_ROOT: '/run/a/', IPC_STATE_APPSPACE: 'env.', IPC_STATE_ID: 'from-env' }
    expect(resolveAddress({}, env)).toEqual({ socketRoot: '/run/a/', appspace: 'env.', id: 'from-env' })
    expect(resolveAddress({ socketRoot: '/run/b/', appspace: 'flag.', id: 'from-flag' }, env)).toEqual({
      socketRoot: '/run/b/',
      appspace: 'flag.',
      id: 'from-flag',
    })
    expect(socketPathOf(resolveAddress({ socketRoot: '/tmp/cem/', appspace: 'ipc-ogreniyorum', id: 'server-socket' }, {}))).toBe(
      '/tmp/cem/ipc-ogreniyorumserver-socket',
    )
  })

  it('adds the trailing slash a folder needs, and keeps an empty appspace but not an empty socket root', () => {
    expect(resolveAddress({ socketRoot: '/run/x', id: 'a' }, { IPC_STATE_APPSPACE: '' })).toEqual({
      socketRoot: '/run/x/',
      appspace: '',
      id: 'a',
    })
    expect(resolveAddress({ id: 'a' }, { IPC_STATE_SOCKET_ROOT: '' })).toEqual({ id: 'a' })
  })

  it('takes a --path as the socket file itself, over every other flag and variable', () => {
    const address = resolveAddress({ path: '/run/app/ipc.sock', socketRoot: '/x/', id: 'y' }, { IPC_STATE_APPSPACE: 'env.' })
    expect(address).toEqual({ socketRoot: '/run/app/', appspace: '', id: 'ipc.sock' })
    expect(socketPathOf(address)).toBe('/run/app/ipc.sock')
  })
})
