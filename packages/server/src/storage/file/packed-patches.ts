// A packed change's patches read from their bytes: a change that sets the same place as the one before to another integer, without its text.
import { CLOSE_LIST, CLOSE_OBJECT, MINUS, NINE, ZERO, parsePatchesText } from '../patches-text.js'

// A journal of many changes is mostly changes like the one before: a counter, a clock, a sequence
// number set again and again. Their patches' bytes are the same up to the value, and the value is
// an integer: once one such text was parsed (by JSON.parse's rules, see parsePatchesText), the
// next ones whose bytes start the same are read here from the bytes, with no text made, the op and
// the path taken from the first (replay only reads them). Anything else is parsed as text.

/** The digits an integer may have and still be exact as a double. */
const EXACT_DIGITS = 15
const VALUE_KEY = Buffer.from('"value":')

/** A single patch whose value is an integer, and the bytes before that value. */
interface Template {
  prefix: Buffer
  op: unknown
  path: unknown
}

/** Reads the patches of the packed changes of one buffer, in order. */
export class PatchesReader {
  #template: Template | undefined

  constructor(
    private readonly bytes: Buffer,
    /** The text of a range of `bytes`. */
    private readonly text: (start: number, end: number) => string,
  ) {}

  /** The patches from `start` to `end`, as JSON.parse reads them. @throws SyntaxError when they are not JSON */
  read(start: number, end: number): unknown {
    const template = this.#template
    if (template !== undefined) {
      const value = this.#valueAfter(template.prefix, start, end)
      if (value !== undefined) return [{ op: template.op, path: template.path, value }]
    }
    const patches = parsePatchesText(this.text(start, end))
    this.#learn(patches, start, end)
    return patches
  }

  /** The integer after `prefix` at `start`, to `end`, closed by `}]`; `undefined` when the bytes are not that. */
  #valueAfter(prefix: Buffer, start: number, end: number): number | undefined {
    const bytes = this.bytes
    let at = start + prefix.length
    if (at + 3 > end || bytes[end - 1] !== CLOSE_LIST || bytes[end - 2] !== CLOSE_OBJECT) return undefined
    for (let k = 0; k < prefix.length; k++) if (bytes[start + k] !== prefix[k]) return undefined
    const negative = bytes[at] === MINUS
    if (negative) at++
    const digitsEnd = end - 2
    // JSON writes no leading zero; an integer of more digits may not be exact: both are left to JSON.parse.
    if (digitsEnd <= at || digitsEnd - at > EXACT_DIGITS || (bytes[at] === ZERO && digitsEnd - at > 1)) return undefined
    let value = 0
    for (; at < digitsEnd; at++) {
      const code = bytes[at]!
      if (code < ZERO || code > NINE) return undefined
      value = value * 10 + (code - ZERO)
    }
    return negative ? -value : value
  }

  /** Keeps `patches` as the template when they are one patch of an integer, its bytes ending `"value":<digits>}]`. */
  #learn(patches: unknown, start: number, end: number): void {
    if (!Array.isArray(patches) || patches.length !== 1) return
    const [patch] = patches as [Record<string, unknown>]
    if (typeof patch !== 'object' || patch === null || !Number.isSafeInteger(patch.value)) return
    // Exactly the keys the template makes: a duplicate or a `__proto__` key would be lost.
    const keys = Object.keys(patch)
    if (keys.length !== 3 || keys[0] !== 'op' || keys[1] !== 'path' || keys[2] !== 'value') return
    const bytes = this.bytes
    let valueAt = end - 2
    while (valueAt > start && bytes[valueAt - 1]! >= ZERO && bytes[valueAt - 1]! <= NINE) valueAt--
    if (bytes[valueAt - 1] === MINUS) valueAt--
    const keyAt = valueAt - VALUE_KEY.length
    if (keyAt <= start || !bytes.subarray(keyAt, valueAt).equals(VALUE_KEY)) return
    this.#template = { prefix: Buffer.from(bytes.subarray(start, valueAt)), op: patch.op, path: patch.path }
  }
}
