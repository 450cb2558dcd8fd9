import { describe, expect, it } from 'vitest'
import { cliArgs, demoAddress, demoLeaveGrace, demoRedis, demoSocketPath, integerOption } from '../src/config.js'

describe('demoAddress', () => {
  it("defaults to the seed's address", () => {
    expect(demoAddress({})).toEqual({ socketRoot: '/tmp/cem/', appspace: 'ipc-ogreniyorum', id: 'server-socket' })
    expect(demoSocketPath({})).toBe('/tmp/cem/ipc-ogreniyorumserver-socket')
  })

  it('takes each part from the environment, adding the folder its trailing slash', () => {
    const env = { IPC_STATE_SOCKET_ROOT: '/tmp/x', IPC_STATE_APPSPACE: 'app.', IPC_STATE_ID: 'demo' }
    expect(demoAddress(env)).toEqual({ socketRoot: '/tmp/x/', appspace: 'app.', id: 'demo' })
    expect(demoSocketPath(env)).toBe('/tmp/x/app.demo')
  })
})

describe('command-line helpers', () => {
  it('drops the `--` pnpm passes along', () => {
    expect(cliArgs(['node', 'w.ts', '--', '--count', '3'])).toEqual(['--count', '3'])
    expect(cliArgs(['node', 'w.ts', '--count', '3'])).toEqual(['--count', '3'])
  })

  it('reads whole numbers and names the option it refuses', () => {
    expect(integerOption('count', '5', 1)).toBe(5)
    expect(() => integerOption('count', '0', 1)).toThrow('--count must be an integer of at least 1, got "0"')
    expect(() => integerOption('count', '2.5', 1)).toThrow(TypeError)
    expect(() => integerOption('count', '', 1)).toThrow(TypeError)
  })
})

describe('demoRedis', () => {
  it('keeps the state in Redis only when IPC_STATE_REDIS_URL is set, under IPC_STATE_REDIS_KEY', () => {
    expect(demoRedis({})).toBeUndefined()
    expect(demoRedis({ IPC_STATE_REDIS_URL: 'redis://h' })).toEqual({ url: 'redis://h', key: 'ipc-state:demo' })
    expect(demoRedis({ IPC_STATE_REDIS_URL: 'redis://h', IPC_STATE_REDIS_KEY: 'k' })).toEqual({ url: 'redis://h', key: 'k' })
  })

  it('refuses it together with IPC_STATE_DATA_DIR', () => {
    expect(() => demoRedis({ IPC_STATE_REDIS_URL: 'redis://h', IPC_STATE_DATA_DIR: '/d' })).toThrow(/not both/)
  })
})

describe('demoLeaveGrace', () => {
  it("leaves the server's default when IPC_STATE_LEAVE_GRACE is unset, and takes whole milliseconds", () => {
    expect(demoLeaveGrace({})).toBeUndefined()
    expect(demoLeaveGrace({ IPC_STATE_LEAVE_GRACE: '' })).toBeUndefined()
    expect(demoLeaveGrace({ IPC_STATE_LEAVE_GRACE: '300' })).toBe(300)
    expect(demoLeaveGrace({ IPC_STATE_LEAVE_GRACE: '0' })).toBe(0)
  })

  it('refuses anything else, naming the variable', () => {
    for (const given of ['-1', '1.5', 'soon', 'Infinity']) {
      expect(() => demoLeaveGrace({ IPC_STATE_LEAVE_GRACE: given })).toThrow(/IPC_STATE_LEAVE_GRACE must be a whole number/)
    }
  })
})
