import { Defaults } from '@ipc-state/protocol'
import { socketRootWarning } from '@ipc-state/protocol/node'
import { describe, expect, it } from 'vitest'
import { exponentialBackoff } from './backoff.js'
import {
  type ClientCoreOptions,
  failoverOption,
  MAX_FAILOVER_ADDRESSES,
  parseClientOptions,
  timeoutOption,
  transportOption,
} from './client-options.js'

const path = '/tmp/test.options'

describe('parseClientOptions', () => {
  it('fills in every default from protocol', () => {
    const options = parseClientOptions({}, path)
    expect(options).toMatchObject({
      path: '/tmp/test.options',
      replica: true,
      timeout: Defaults.TIMEOUT_MS,
      connectAttempts: Defaults.CONNECT_ATTEMPTS,
      reconnectAttempts: Number.POSITIVE_INFINITY,
      maxInFlight: Defaults.MAX_IN_FLIGHT,
      maxFrameBytes: Defaults.CLIENT_MAX_FRAME_BYTES,
      logger: {},
      signal: undefined,
      socketRootWarning: undefined,
      allowForeignServer: false,
    })
    expect(options.clientId).toMatch(/^[0-9a-f-]{36}$/)
    expect(options.instanceId).not.toBe(options.clientId)
    expect(typeof options.retryDelay).toBe('function')
  })

  it('keeps what the caller gave, and makes a new instance id each time', () => {
    const retryDelay = exponentialBackoff()
    const given: ClientCoreOptions = { clientId: 'me', replica: false, timeout: 0.5e3, reconnectAttempts: 0, retryDelay }
    const first = parseClientOptions(given, path)
    expect(first).toMatchObject({ clientId: 'me', replica: false, timeout: 500, reconnectAttempts: 0, retryDelay })
    expect(parseClientOptions(given, path).instanceId).not.toBe(first.instanceId)
  })

  it('keeps allowForeignServer', () => {
    expect(parseClientOptions({ allowForeignServer: true }, path).allowForeignServer).toBe(true)
  })

  it('names a socketRoot without a trailing separator', () => {
    expect(parseClientOptions({ socketRoot: '/tmp/cem' }, path).socketRootWarning).toBe(socketRootWarning('/tmp/cem'))
  })

  it.each([
    [{ timeout: 0 }, 'timeout must be a number of at least 1 or Infinity, got 0'],
    [{ timeout: Number.NaN }, 'timeout must be a number of at least 1 or Infinity, got NaN'],
    [{ connectAttempts: 0 }, 'connectAttempts must be an integer of at least 1 or Infinity, got 0'],
    [{ reconnectAttempts: -1 }, 'reconnectAttempts must be an integer of at least 0 or Infinity, got -1'],
    [{ maxInFlight: 1.5 }, 'maxInFlight must be an integer of at least 1 or Infinity, got 1.5'],
    [{ maxFrameBytes: Number.POSITIVE_INFINITY }, 'maxFrameBytes must be an integer of at least 1, got Infinity'],
    [{ retryDelay: 5 as never }, 'retryDelay must be a function'],
    [{ clientId: '' }, 'clientId must be a string of 1 to 256 characters'],
    [{ allowForeignServer: 'yes' as never }, 'allowForeignServer must be a boolean'],
  ])('throws a TypeError naming the option for %o', (bad, message) => {
    expect(() => parseClientOptions(bad, path)).toThrow(new TypeError(message))
  })
})

describe('timeoutOption', () => {
  it('takes milliseconds or Infinity, and falls back when unset', () => {
    expect(timeoutOption(undefined, 7)).toBe(7)
    expect(timeoutOption(1.5, 7)).toBe(1.5)
    expect(timeoutOption(Number.POSITIVE_INFINITY, 7)).toBe(Number.POSITIVE_INFINITY)
    expect(() => timeoutOption('5', 7)).toThrow(TypeError)
  })
})

describe('failoverOption', () => {
  const main = { socketRoot: '/run/app/', appspace: 'shop.', id: 'a' }

  it('fills in the main address for the parts an address leaves out', () => {
    expect(failoverOption({ ...main })).toEqual([])
    expect(
      failoverOption({ ...main, failover: [{ id: 'b' }, { socketRoot: '/run/other/' }, { appspace: 'x.', id: undefined }] }),
    ).toEqual([
      { socketRoot: '/run/app/', appspace: 'shop.', id: 'b' },
      { socketRoot: '/run/other/', appspace: 'shop.', id: 'a' },
      { socketRoot: '/run/app/', appspace: 'x.', id: 'a' },
    ])
    // The default folder and appspace count as the main address's.
    expect(failoverOption({ id: 'a', failover: [{ id: 'b' }] })).toEqual([{ socketRoot: undefined, appspace: undefined, id: 'b' }])
  })

  it.each([
    [{ failover: { id: 'b' } }, 'failover must be an array of socket addresses'],
    [{ failover: [null] }, 'failover[0] must be an object'],
    [{ failover: [{ id: 'b' }, 'c'] }, 'failover[1] must be an object'],
    [{ failover: [{ path: '/run/b.sock' }] }, 'failover[0].path is not an option: an address takes socketRoot, appspace and id'],
    [{ failover: [{ id: 7 }] }, 'failover[0].id must be a string'],
    [{ failover: [{ id: 'a' }] }, 'failover[0] names a server given already: each address must be another one'],
    [{ failover: [{ appspace: 'shop.' }] }, 'failover[0] names a server given already: each address must be another one'],
    [
      { failover: [{ id: 'b' }, { id: 'b', appspace: 'shop.' }] },
      'failover[1] names a server given already: each address must be another one',
    ],
    [
      { failover: Array.from({ length: MAX_FAILOVER_ADDRESSES + 1 }, (_, i) => ({ id: `s${i}` })) },
      `failover takes at most ${MAX_FAILOVER_ADDRESSES} addresses, got ${MAX_FAILOVER_ADDRESSES + 1}`,
    ],
  ])('throws a TypeError naming the address for %o', (bad, message) => {
    expect(() => failoverOption({ ...main, ...(bad as object) })).toThrow(new TypeError(message))
  })

  it("is refused with a transport of the caller's, which has one server", () => {
    const transport = { open: () => ({ write() {}, close() {} }) }
    expect(() => transportOption({ transport, failover: [{ id: 'b' }] } as never)).toThrow(
      new TypeError('failover is an option of the Unix socket and cannot be given with transport'),
    )
  })
})
