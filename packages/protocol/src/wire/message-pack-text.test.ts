import { describe, expect, it } from 'vitest'
import { decodeText } from './message-pack-text.js'

// Protocol has no TextEncoder in its types: UTF-8 through the URI functions.
const bytes = (text: string): Uint8Array => Uint8Array.from(unescape(encodeURIComponent(text)), (c) => c.charCodeAt(0))

describe('decodeText', () => {
  it('reads ASCII and UTF-8 of every length, from any offset', () => {
    for (const text of ['', 'a', 'abcdefg', 'abcdefgh', 'x'.repeat(23), 'y'.repeat(24), 'é', 'naïve ✓ 😀', 'é'.repeat(40)]) {
      const framed = new Uint8Array([0xff, 0xff, ...bytes(text), 0xff])
      expect(decodeText(framed, 2, framed.length - 3)).toBe(text)
    }
  })

  it('gives undefined for bytes that are not UTF-8, short or long', () => {
    expect(decodeText(new Uint8Array([0x61, 0xff]), 0, 2)).toBeUndefined()
    // A lone surrogate, as UTF-8 would encode one: JSON never carries such a string.
    expect(decodeText(new Uint8Array([0xed, 0xa0, 0x80]), 0, 3)).toBeUndefined()
    expect(decodeText(new Uint8Array([...bytes('a'.repeat(30)), 0xc3]), 0, 31)).toBeUndefined()
  })
})
