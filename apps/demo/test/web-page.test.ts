// Reading IPC_STATE_WEB_PORT: the page is served only when it names a port. The page itself is driven in Chromium by packages/integration/test/demo-page.test.ts.
import { describe, expect, it } from 'vitest'
import { demoWebPort } from '../src/web-page.js'

describe('demoWebPort', () => {
  it('serves no page when the variable is unset or empty', () => {
    expect(demoWebPort({})).toBeUndefined()
    expect(demoWebPort({ IPC_STATE_WEB_PORT: '' })).toBeUndefined()
  })

  it('takes a port, 0 for a free one', () => {
    expect(demoWebPort({ IPC_STATE_WEB_PORT: '0' })).toBe(0)
    expect(demoWebPort({ IPC_STATE_WEB_PORT: '8080' })).toBe(8080)
    expect(demoWebPort({ IPC_STATE_WEB_PORT: '65535' })).toBe(65_535)
  })

  it.each(['-1', '65536', '80.5', ' 80', '0x50', 'http', '1e3'])('refuses %j, naming the variable', (text) => {
    expect(() => demoWebPort({ IPC_STATE_WEB_PORT: text })).toThrow(/IPC_STATE_WEB_PORT must be a port number/)
  })
})
