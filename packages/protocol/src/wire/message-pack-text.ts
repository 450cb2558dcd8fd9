// Turns a MessagePack string's bytes into text: short ASCII ones in JavaScript, the rest by a strict UTF-8 decoder.

/** The part of `TextDecoder` used here: protocol's types know no DOM and no Node. */
interface Utf8Decoder {
  decode(bytes: Uint8Array): string
}
const { TextDecoder } = globalThis as unknown as {
  TextDecoder: new (label: string, options: { fatal: boolean }) => Utf8Decoder
}
// Fatal: bytes that are not UTF-8 (a lone surrogate among them) make the frame malformed, as JSON
// would never carry such a string.
const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Below this many bytes an ASCII string is built in JavaScript: cheaper than a call to the decoder. */
const SHORT_STRING = 24

/**
 * The text of `length` bytes of `src` from `start`, or `undefined` when they are not UTF-8. The
 * caller has checked that they are all there.
 */
export function decodeText(src: Uint8Array, start: number, length: number): string | undefined {
  if (length < SHORT_STRING) {
    let bits = 0
    for (let i = start; i < start + length; i++) bits |= src[i]!
    if (bits < 0x80) return ascii(src, start, length)
  }
  try {
    return utf8.decode(src.subarray(start, start + length))
  } catch {
    return undefined
  }
}

const fromCharCode = String.fromCharCode

/** `length` bytes of ASCII from `at`, in as few calls as can be: short strings are most of a frame's. */
function ascii(src: Uint8Array, at: number, length: number): string {
  switch (length) {
    case 0:
      return ''
    case 1:
      return fromCharCode(src[at]!)
    case 2:
      return fromCharCode(src[at]!, src[at + 1]!)
    case 3:
      return fromCharCode(src[at]!, src[at + 1]!, src[at + 2]!)
    case 4:
      return fromCharCode(src[at]!, src[at + 1]!, src[at + 2]!, src[at + 3]!)
    case 5:
      return fromCharCode(src[at]!, src[at + 1]!, src[at + 2]!, src[at + 3]!, src[at + 4]!)
    case 6:
      return fromCharCode(src[at]!, src[at + 1]!, src[at + 2]!, src[at + 3]!, src[at + 4]!, src[at + 5]!)
    case 7:
      return fromCharCode(src[at]!, src[at + 1]!, src[at + 2]!, src[at + 3]!, src[at + 4]!, src[at + 5]!, src[at + 6]!)
    default:
      return (
        fromCharCode(src[at]!, src[at + 1]!, src[at + 2]!, src[at + 3]!, src[at + 4]!, src[at + 5]!, src[at + 6]!, src[at + 7]!) +
        ascii(src, at + 8, length - 8)
      )
  }
}
