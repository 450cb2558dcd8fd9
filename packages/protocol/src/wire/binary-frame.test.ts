import { describe, expect, it } from 'vitest'
import { BINARY_FRAME_MARKER, BINARY_HEADER_BYTES, WireDecoder, type WireFrame, writeBinaryHeader } from './binary-frame.js'
import { ErrorCode } from '../errors.js'
import { decodeBinaryBody, encodeBinaryFrame } from './json-pack.js'
import { decodeClientMessage } from './decode-client.js'
import { thrown } from '../../test/test-helpers.js'

// Protocol has no Buffer and no TextEncoder in its types: UTF-8 through the URI functions.
const utf8 = (text: string): Uint8Array => Uint8Array.from(unescape(encodeURIComponent(text)), (c) => c.charCodeAt(0))
const decodeText = (bytes: Uint8Array, start: number, end: number): string => {
  let binary = ''
  for (let i = start; i < end; i++) binary += String.fromCharCode(bytes[i]!)
  return decodeURIComponent(escape(binary))
}
const join = (...parts: Uint8Array[]): Uint8Array => {
  const whole = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0))
  let at = 0
  for (const part of parts) {
    whole.set(part, at)
    at += part.length
  }
  return whole
}
const binaryFrame = (body: Uint8Array): Uint8Array => {
  const header = new Uint8Array(BINARY_HEADER_BYTES)
  writeBinaryHeader(header, 0, body.length)
  return join(header, body)
}
const decoder = (maxFrameBytes?: number) =>
  new WireDecoder({ decodeText, ...(maxFrameBytes === undefined ? {} : { maxFrameBytes }) })
const show = (frames: WireFrame[]) => frames.map((frame) => (typeof frame === 'string' ? frame : [...frame]))

describe('WireDecoder', () => {
  const text1 = '{"type":"hello","data":{"clientId":"çok güzel €"}}'
  const body = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff)
  const text2 = '{"type":"state/get","data":{"id":2}}'
  const stream = join(utf8(`${text1}\f`), binaryFrame(body), utf8(`${text2}\f`), binaryFrame(Uint8Array.of(0x0c, 0, 0x0c)))
  const expected = show([text1, body, text2, Uint8Array.of(0x0c, 0, 0x0c)])

  it('reads text and binary frames from one stream, a frame’s first byte telling which', () => {
    expect(show(decoder().push(stream))).toEqual(expected)
  })

  it('gives the same frames however the stream is split, at every byte', () => {
    for (let cut = 1; cut < stream.length; cut++) {
      const d = decoder()
      const frames = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))]
      expect(show(frames), `cut at ${cut}`).toEqual(expected)
      expect(d.pendingBytes).toBe(0)
    }
  })

  it('gives the same frames when every byte arrives alone', () => {
    const d = decoder()
    const frames: WireFrame[] = []
    for (let i = 0; i < stream.length; i++) frames.push(...d.push(stream.subarray(i, i + 1)))
    expect(show(frames)).toEqual(expected)
  })

  it('counts the bytes of an unfinished binary frame, its header included', () => {
    const d = decoder()
    const frame = binaryFrame(body)
    d.push(frame.subarray(0, 3))
    expect(d.pendingBytes).toBe(3)
    d.push(frame.subarray(3, 5))
    expect(d.pendingBytes).toBe(5)
    d.push(frame.subarray(5, 105))
    expect(d.pendingBytes).toBe(105)
    expect(show(d.push(frame.subarray(105)))).toEqual(show([body]))
    expect(d.pendingBytes).toBe(0)
  })

  it('refuses a hostile length from the header alone, before anything is held for the body', () => {
    const d = decoder(1024)
    const error = thrown(() => d.push(Uint8Array.of(BINARY_FRAME_MARKER, 0xff, 0xff, 0xff, 0xff)))
    expect(error).toMatchObject({ code: ErrorCode.FRAME_TOO_LARGE, data: { limit: 1024 } })
    expect((error as Error).message).toContain('4294967295')
    expect(d.pendingBytes).toBe(0)
  })

  it('refuses a length one past the limit, and takes one at the limit', () => {
    const at = binaryFrame(new Uint8Array(64).fill(1))
    expect(decoder(64).push(at)).toHaveLength(1)
    const past = binaryFrame(new Uint8Array(65))
    expect(thrown(() => decoder(64).push(past.subarray(0, BINARY_HEADER_BYTES)))).toMatchObject({ code: ErrorCode.FRAME_TOO_LARGE })
  })

  it('refuses a text frame that grows past the limit while it arrives', () => {
    const d = decoder(10)
    d.push(utf8('{"a":1'))
    expect(thrown(() => d.push(utf8('23456')))).toMatchObject({ code: ErrorCode.FRAME_TOO_LARGE })
    expect(d.pendingBytes).toBe(0)
  })

  it('refuses a binary frame with an empty body', () => {
    expect(thrown(() => decoder().push(Uint8Array.of(0, 0, 0, 0, 0)))).toMatchObject({ code: ErrorCode.BAD_REQUEST })
  })

  it('skips empty text frames between frames', () => {
    expect(show(decoder().push(utf8('\f\f{}\f\f')))).toEqual(['{}'])
  })

  it('takes a NUL inside a text frame as text: only a frame’s first byte marks a binary frame', () => {
    expect(show(decoder().push(utf8('{"a":"\u0000"}\f')))).toEqual(['{"a":"\u0000"}'])
  })
})

describe('a binary frame’s body', () => {
  it('decodes to the message that was encoded', () => {
    const message = { type: 'action/call', data: { id: 3, action: 'echo', input: 'ğ'.repeat(10_000) } }
    const frame = encodeBinaryFrame(message)!
    expect(frame[0]).toBe(BINARY_FRAME_MARKER)
    const [body] = decoder().push(frame) as Uint8Array[]
    expect(decodeBinaryBody(body!)).toEqual(message)
    expect(decodeClientMessage(body!)).toEqual({ ok: true, message })
  })

  it('is a BAD_REQUEST when it is garbage, truncated or followed by more bytes', () => {
    const valid = encodeBinaryFrame({ type: 'state/get', data: { id: 1, pad: 'x'.repeat(9000) } })!.subarray(BINARY_HEADER_BYTES)
    for (const body of [Uint8Array.of(0xc1), valid.subarray(0, 100), join(valid, Uint8Array.of(0x01))]) {
      const decoded = decodeClientMessage(body)
      expect(decoded.ok).toBe(false)
      if (!decoded.ok) expect(decoded.error.code).toBe(ErrorCode.BAD_REQUEST)
    }
  })

  it('is held to the same checks as a JSON frame', () => {
    const frame = encodeBinaryFrame({ type: 'action/call', data: { id: 4, action: '', input: 'x'.repeat(9000) } })!
    const decoded = decodeClientMessage(frame.subarray(BINARY_HEADER_BYTES))
    expect(decoded).toMatchObject({ ok: false, id: 4, error: { code: ErrorCode.BAD_REQUEST } })
    const deep = encodeBinaryFrame({ type: 'action/call', data: { id: 5, action: 'a', input: [[[['x'.repeat(9000)]]]] } })!
    expect(decodeClientMessage(deep.subarray(BINARY_HEADER_BYTES), { maxDepth: 4 })).toMatchObject({ ok: false, id: 5 })
  })
})
