import { describe, expect, it } from 'vitest'
import { DEFAULT_ADDRESS, resolveAddress, socketPathOf } from './address.js'

describe('resolveAddress', () => {
  it("defaults to the demo's address", () => {
    expect(resolveAddress({}, {})).toEqual(DEFAULT_ADDRESS)
    expect(socketPathOf(resolveAddress({}, {}))).toBe('/tmp/cem/ipc-ogreniyorumserver-socket')
  })

  it('takes each part from its flag, else its environment variable', () => {
    const env = { IPC_STATE_SOCKET_ROOT: '/run/a/', IPC_STATE_APPSPACE: 'env.', IPC_STATE_ID: 'from-env' }
    expect(resolveAddress({}, env)).toEqual({ socketRoot: '/run/a/', appspace: 'env.', id: 'from-env' })
    expect(resolveAddress({ socketRoot: '/run/b/', appspace: 'flag.', id: 'from-flag' }, env)).toEqual({
      socketRoot: '/run/b/',
      appspace: 'flag.',
      id: 'from-flag',
    })
  })

  it('adds the trailing slash a folder needs, and keeps an empty appspace but not an empty id', () => {
    expect(resolveAddress({ socketRoot: '/run/x' }, { IPC_STATE_APPSPACE: '', IPC_STATE_ID: '' })).toEqual({
      socketRoot: '/run/x/',
      appspace: '',
      id: DEFAULT_ADDRESS.id,
    })
  })

  it('takes a --path as the socket file itself, over every other flag and variable', () => {
    const address = resolveAddress({ path: '/run/app/ipc.sock', socketRoot: '/x/', id: 'y' }, { IPC_STATE_APPSPACE: 'env.' })
    expect(address).toEqual({ socketRoot: '/run/app/', appspace: '', id: 'ipc.sock' })
    expect(socketPathOf(address)).toBe('/run/app/ipc.sock')
  })
})
