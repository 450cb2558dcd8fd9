import { describe, expect, it } from 'vitest'
import { ErrorCode } from '../errors.js'
import { DEFAULT_MAX_FRAME_BYTES } from './frame.js'
import { FRAME_BYTES_PER_CONTAINER, maxFrameContainers, parseJsonFrame } from './frame-cost.js'
import { encodeBinaryFrame } from './json-pack.js'
import { BINARY_HEADER_BYTES } from './binary-frame.js'
import { decodeClientMessage } from './decode-client.js'
import { decodeServerMessage } from './decode-server.js'
import { thrown } from '../../test/test-helpers.js'

describe('maxFrameContainers', () => {
  it('allows one object or array per 16 bytes of the frame limit, and a thousand at least', () => {
    expect(FRAME_BYTES_PER_CONTAINER).toBe(16)
    expect(maxFrameContainers()).toBe(DEFAULT_MAX_FRAME_BYTES / 16)
    expect(maxFrameContainers(1024 * 1024 + 15)).toBe(64 * 1024)
    expect(maxFrameContainers(100)).toBe(1024)
  })
})

describe('parseJsonFrame', () => {
  it('parses as JSON.parse does within the limit', () => {
    const text = JSON.stringify({ a: [{}, [], { b: '[{' }], c: 'x\\"{[' })
    expect(parseJsonFrame(text, 5)).toEqual(JSON.parse(text))
  })

  it('counts objects and arrays outside strings only, escaped quotes included', () => {
    const strings = JSON.stringify(Array.from({ length: 100 }, () => '{[\\"{[}"'))
    expect(parseJsonFrame(strings, 1)).toHaveLength(100)
    const empties = `[${new Array(100).fill('{}').join(',')}]`
    expect(parseJsonFrame(empties, 101)).toHaveLength(100)
    expect(thrown(() => parseJsonFrame(empties, 100))).toMatchObject({ code: ErrorCode.FRAME_TOO_LARGE, data: { containers: 100 } })
  })

  it('still throws SyntaxError for text that is not JSON', () => {
    expect(() => parseJsonFrame('{', 10)).toThrow(SyntaxError)
  })
})

describe('decoding a message past its containers', () => {
  const input = Array.from({ length: 3000 }, () => ({}))
  const message = { type: 'action/call', data: { id: 7, action: 'set', input } }

  it('refuses it with FRAME_TOO_LARGE, as text and as a binary frame', () => {
    const text = JSON.stringify(message)
    const binary = encodeBinaryFrame(message, 0)!.subarray(BINARY_HEADER_BYTES)
    for (const frame of [text, binary]) {
      const decoded = decodeClientMessage(frame, { maxContainers: 2000 })
      expect(decoded).toMatchObject({ ok: false, error: { code: ErrorCode.FRAME_TOO_LARGE } })
      expect(decodeClientMessage(frame, { maxContainers: 4000 }).ok).toBe(true)
      expect(decodeServerMessage(frame, { maxContainers: 2000 })).toMatchObject({
        ok: false,
        error: { code: ErrorCode.FRAME_TOO_LARGE },
      })
    }
  })

  it('keeps BAD_REQUEST for a frame that is not valid', () => {
    expect(decodeClientMessage('{', { maxContainers: 1 })).toMatchObject({ ok: false, error: { code: ErrorCode.BAD_REQUEST } })
    expect(decodeClientMessage(Uint8Array.of(0xd4, 0x69, 0))).toMatchObject({ ok: false, error: { code: ErrorCode.BAD_REQUEST } })
  })
})
