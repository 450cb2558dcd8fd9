import { describe, it, expect } from 'vitest'
import { thrown } from '../../test/test-helpers.js'
import { DEFAULT_MAX_FRAME_BYTES, FRAME_DELIMITER, FrameDecoder, encodeFrame, utf8ByteLength } from './frame.js'
import { IpcStateError } from '../errors.js'

describe('constants', () => {
  it('uses the form feed as node-ipc does, and 16 MiB as the default limit', () => {
    expect(FRAME_DELIMITER).toBe('\f')
    expect(FRAME_DELIMITER.charCodeAt(0)).toBe(0x0c)
    expect(DEFAULT_MAX_FRAME_BYTES).toBe(16_777_216)
  })
})

describe('encodeFrame', () => {
  it('writes {"type":..,"data":..} followed by \\f', () => {
    expect(encodeFrame('hello', { id: 1 })).toBe('{"type":"hello","data":{"id":1}}\f')
    expect(encodeFrame('state/get', 3)).toBe('{"type":"state/get","data":3}\f')
  })

  it('puts type before data whatever the data is', () => {
    expect(encodeFrame('x', null)).toBe('{"type":"x","data":null}\f')
    expect(encodeFrame('x', [1, 'a'])).toBe('{"type":"x","data":[1,"a"]}\f')
  })

  it('omits undefined data, as JSON.stringify does', () => {
    expect(encodeFrame('getSharedData', undefined)).toBe('{"type":"getSharedData"}\f')
  })

  it('escapes a form feed inside the payload, so the delimiter occurs exactly once', () => {
    const frame = encodeFrame('x', { text: 'a\fb' })
    expect(frame.split('\f')).toHaveLength(2)
    expect(frame.endsWith('\f')).toBe(true)
    expect(JSON.parse(frame.slice(0, -1))).toEqual({ type: 'x', data: { text: 'a\fb' } })
  })

  it('throws for data JSON cannot serialise', () => {
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(() => encodeFrame('x', cyclic)).toThrow(TypeError)
    expect(() => encodeFrame('x', { n: 1n })).toThrow(TypeError)
  })

  it('decodes back to the same frame', () => {
    const decoder = new FrameDecoder()
    const text = encodeFrame('action/call', { id: 9, action: 'add', input: { text: 'çok güzel €' } })
    expect(decoder.push(text)).toEqual([text.slice(0, -1)])
  })
})

describe('utf8ByteLength', () => {
  it.each([
    ['', 0],
    ['a', 1],
    ['hello', 5],
    ['\u007f', 1],
    ['\u0080', 2],
    ['é', 2],
    ['ğ', 2],
    ['\u07ff', 2],
    ['\u0800', 3],
    ['€', 3],
    ['\uffff', 3],
    ['😀', 4],
    ['a😀b', 6],
    ['😀😀', 8],
    ['\ud83d', 3], // lone high surrogate at the end
    ['\ud83dx', 4], // lone high surrogate followed by ASCII
    ['\ude00', 3], // lone low surrogate
    ['\ude00\ud83d', 6], // reversed pair: two lone surrogates
    ['\ud83d\ud83d\ude00', 7], // lone high, then a valid pair
  ])('counts %j as %i bytes', (text, bytes) => {
    expect(utf8ByteLength(text)).toBe(bytes)
  })

  it('sums mixed text correctly', () => {
    // 'İ' 2, 'ş' 2, '€' 3, '😀' 4, '✓' 3, '中' 3, '文' 3, NUL 1, the other 34 ASCII characters 1 each.
    const text = 'İpc-state: şu an 3 € ve 😀 ile ✓, 中文, \u0000 end'
    expect(utf8ByteLength(text)).toBe(2 + 2 + 3 + 4 + 3 + 3 + 3 + 1 + 34)
  })
})

describe('FrameDecoder', () => {
  describe('constructor', () => {
    it('defaults to DEFAULT_MAX_FRAME_BYTES', () => {
      expect(new FrameDecoder().maxFrameBytes).toBe(DEFAULT_MAX_FRAME_BYTES)
      expect(new FrameDecoder({}).maxFrameBytes).toBe(DEFAULT_MAX_FRAME_BYTES)
    })

    it('takes a custom limit', () => {
      expect(new FrameDecoder({ maxFrameBytes: 1 }).maxFrameBytes).toBe(1)
    })

    it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, '10'])('throws TypeError for maxFrameBytes %s', (max) => {
      expect(() => new FrameDecoder({ maxFrameBytes: max as number })).toThrow(TypeError)
      expect(() => new FrameDecoder({ maxFrameBytes: max as number })).toThrow(/maxFrameBytes/)
    })
  })

  it('returns nothing until the delimiter arrives', () => {
    const d = new FrameDecoder()
    expect(d.push('{"type":"a"')).toEqual([])
    expect(d.pendingBytes).toBe(11)
    expect(d.push('}\f')).toEqual(['{"type":"a"}'])
    expect(d.pendingBytes).toBe(0)
  })

  it('reassembles one frame pushed one character at a time', () => {
    const d = new FrameDecoder()
    const text = encodeFrame('state/changed', { epoch: 'e', version: 1, patches: [] })
    const out: string[] = []
    for (const ch of text) out.push(...d.push(ch))
    expect(out).toEqual([text.slice(0, -1)])
    expect(d.pendingBytes).toBe(0)
  })

  it('reassembles a frame whose multi-byte characters arrive across pushes', () => {
    const d = new FrameDecoder()
    expect(d.push('{"t":"é')).toEqual([])
    expect(d.push('€')).toEqual([])
    expect(d.pendingBytes).toBe(utf8ByteLength('{"t":"é€'))
    expect(d.push('😀"}\f')).toEqual(['{"t":"é€😀"}'])
  })

  it('returns several frames from one push, in order', () => {
    const d = new FrameDecoder()
    expect(d.push('{"a":1}\f{"b":2}\f{"c":3}\f')).toEqual(['{"a":1}', '{"b":2}', '{"c":3}'])
    expect(d.pendingBytes).toBe(0)
  })

  it('returns a complete frame at once even when a partial one follows it', () => {
    const d = new FrameDecoder()
    expect(d.push('{"a":1}\f{"b":')).toEqual(['{"a":1}'])
    expect(d.pendingBytes).toBe(5)
    expect(d.push('2}\f{"c"')).toEqual(['{"b":2}'])
    expect(d.push(':3}\f')).toEqual(['{"c":3}'])
  })

  it('joins a held partial frame with the first piece of the next push', () => {
    const d = new FrameDecoder()
    d.push('ab')
    d.push('cd')
    expect(d.push('ef\fgh\f')).toEqual(['abcdef', 'gh'])
  })

  it('skips empty frames', () => {
    const d = new FrameDecoder()
    expect(d.push('\f')).toEqual([])
    expect(d.push('\f\f{"a":1}\f\f\f{"b":2}\f\f')).toEqual(['{"a":1}', '{"b":2}'])
    expect(d.push('')).toEqual([])
    expect(d.pendingBytes).toBe(0)
  })

  it('ignores empty pushes without losing the partial frame', () => {
    const d = new FrameDecoder()
    d.push('ab')
    expect(d.push('')).toEqual([])
    expect(d.pendingBytes).toBe(2)
    expect(d.push('\f')).toEqual(['ab'])
  })

  it('reset drops a partial frame', () => {
    const d = new FrameDecoder()
    d.push('garbage')
    d.reset()
    expect(d.pendingBytes).toBe(0)
    expect(d.push('{"a":1}\f')).toEqual(['{"a":1}'])
  })

  describe('maxFrameBytes', () => {
    it('accepts a frame of exactly the limit, in one push or across several', () => {
      const d = new FrameDecoder({ maxFrameBytes: 10 })
      expect(d.push('0123456789\f')).toEqual(['0123456789'])
      expect(d.push('01234')).toEqual([])
      expect(d.push('56789')).toEqual([])
      expect(d.pendingBytes).toBe(10)
      expect(d.push('\f')).toEqual(['0123456789'])
    })

    it('does not count the delimiter against the limit', () => {
      const d = new FrameDecoder({ maxFrameBytes: 3 })
      expect(d.push('abc\fdef\f')).toEqual(['abc', 'def'])
    })

    it('applies the limit per frame, not per push', () => {
      const d = new FrameDecoder({ maxFrameBytes: 4 })
      expect(d.push('aaaa\fbbbb\fcccc\fdd')).toEqual(['aaaa', 'bbbb', 'cccc'])
      expect(d.pendingBytes).toBe(2)
    })

    it('refuses a complete frame one byte over the limit', () => {
      const d = new FrameDecoder({ maxFrameBytes: 10 })
      const error = thrown(() => d.push('01234567890\f'))
      expect(error).toBeInstanceOf(IpcStateError)
      expect((error as IpcStateError).code).toBe('FRAME_TOO_LARGE')
      expect((error as IpcStateError).data).toEqual({ limit: 10 })
    })

    it('refuses a frame while it is still incomplete, as soon as it passes the limit', () => {
      const d = new FrameDecoder({ maxFrameBytes: 10 })
      expect(d.push('0123456789')).toEqual([])
      const error = thrown(() => d.push('x'))
      expect(error).toBeInstanceOf(IpcStateError)
      expect((error as IpcStateError).code).toBe('FRAME_TOO_LARGE')
      expect((error as IpcStateError).message).toMatch(/11 bytes/)
      expect((error as IpcStateError).message).toMatch(/10 bytes/)
      expect(d.pendingBytes).toBe(0)
    })

    it('refuses a single oversized chunk with no delimiter at all', () => {
      const d = new FrameDecoder({ maxFrameBytes: 1024 })
      expect(() => d.push('x'.repeat(1025))).toThrow(IpcStateError)
      expect(d.pendingBytes).toBe(0)
    })

    it('keeps pendingBytes bounded by the limit while a stream trickles in without delimiters', () => {
      const d = new FrameDecoder({ maxFrameBytes: 100 })
      let refused = 0
      for (let i = 0; i < 1000; i++) {
        try {
          d.push('0123456789')
        } catch (error) {
          expect((error as IpcStateError).code).toBe('FRAME_TOO_LARGE')
          refused++
        }
        expect(d.pendingBytes).toBeLessThanOrEqual(100)
      }
      // 10 pushes fill the frame, the 11th is refused and empties the decoder, and so on.
      expect(refused).toBe(90)
    })

    it('is usable again after a refusal (and after reset)', () => {
      const d = new FrameDecoder({ maxFrameBytes: 8 })
      expect(() => d.push('123456789')).toThrow(IpcStateError)
      expect(d.pendingBytes).toBe(0)
      expect(d.push('{"a":1}\f')).toEqual(['{"a":1}'])
      d.push('1234')
      d.reset()
      expect(d.push('12345678\f')).toEqual(['12345678'])
    })

    it('counts multi-byte characters as UTF-8 bytes, not UTF-16 units', () => {
      // 'é' is 1 UTF-16 unit but 2 bytes; '€' 3 bytes; '😀' 2 units, 4 bytes.
      const d = new FrameDecoder({ maxFrameBytes: 6 })
      expect(d.push('ééé\f')).toEqual(['ééé'])
      expect(() => d.push('éééé\f')).toThrow(IpcStateError)
      expect(d.push('€€\f')).toEqual(['€€'])
      expect(() => d.push('€€a')).toThrow(IpcStateError)
      expect(d.push('😀a')).toEqual([])
      expect(d.pendingBytes).toBe(5)
      expect(d.push('b\f')).toEqual(['😀ab'])
      expect(() => d.push('😀😀')).toThrow(IpcStateError)
    })

    it('uses the byteLength option when given', () => {
      const seen: string[] = []
      const d = new FrameDecoder({
        maxFrameBytes: 5,
        byteLength: (text) => {
          seen.push(text)
          return text.length * 2
        },
      })
      expect(d.push('ab\f')).toEqual(['ab'])
      expect(seen).toEqual(['ab'])
      expect(() => d.push('abc')).toThrow(IpcStateError)
    })
  })
})
