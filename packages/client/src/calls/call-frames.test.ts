import { type ClientMessage, decodeClientMessage, encodeClientMessage } from '@ipc-state/protocol/wire'
import { describe, expect, it } from 'vitest'
import { frameTooLarge, requestFrame, textBytes, textFrame } from './call-frames.js'

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

describe('call frames', () => {
  it.each([
    ['no input', undefined],
    ['a number', 42],
    ['NaN', Number.NaN],
    ['a string with quotes and the delimiter', 'a "b"\f\u2028'],
    ['null', null],
    ['an object holding undefined', { a: undefined, b: [undefined, 1] }],
    ['a date', new Date(0)],
    ['a function, which JSON leaves out', () => 1],
  ])('writes an action call with %s as encodeClientMessage does', (_label, input) => {
    const message: ClientMessage = { type: 'action/call', data: { id: 7, action: 'add "it"', input } }
    const frame = textFrame(message)
    expect(frame.binary).toBe(false)
    expect(frame.text).toBe(encodeClientMessage(message))
    expect(text(textBytes(message))).toBe(encodeClientMessage(message))
    expect(decodeClientMessage(frame.text.slice(0, -1)).ok).toBe(true)
  })

  it('writes other requests as encodeClientMessage does', () => {
    const message: ClientMessage = { type: 'state/get', data: { id: 3 } }
    expect(textFrame(message).text).toBe(encodeClientMessage(message))
  })

  it('sends a large input as a binary frame where the connection takes them, and a small one as text', () => {
    const large: ClientMessage = { type: 'action/call', data: { id: 1, action: 'echo', input: 'x'.repeat(64 * 1024) } }
    expect(requestFrame(large, true).binary).toBe(true)
    expect(requestFrame(large, false).binary).toBe(false)
    const small: ClientMessage = { type: 'action/call', data: { id: 2, action: 'increment', input: 1 } }
    expect(requestFrame(small, true).binary).toBe(false)
    expect(
      requestFrame({ type: 'action/call', data: { id: 3, action: 'set', input: { list: ['y'.repeat(9000)] } } }, true).binary,
    ).toBe(true)
  })

  it('measures a text frame in UTF-8 bytes against the server limit, its delimiter left out', () => {
    const frame = textFrame({ type: 'action/call', data: { id: 1, action: 'echo', input: '\u20ac'.repeat(100) } })
    const size = new TextEncoder().encode(frame.text).length - 1
    expect(frameTooLarge(frame, size, 'here')).toBeUndefined()
    expect(frameTooLarge(frame, size - 1, 'here')?.data).toEqual({ limit: size - 1, size })
  })
})
