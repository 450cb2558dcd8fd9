// A change's patches read from their JSON text: the usual shapes read here directly, anything else by JSON.parse.

// Replay parses the patches of every change since the last snapshot, most of them one or a few
// patches that set a key to a number or a short string. JSON.parse spends more time getting ready
// for such a text than reading it; this reads exactly that form (no space, keys in the order the
// server writes them, path items and values plain: strings without escapes, numbers, true, false,
// null) and gives up on anything else, which JSON.parse then reads. What it reads, it reads as
// JSON.parse would: the same values, the same keys.

// Character codes of JSON's punctuation and digits; those exported, the packed-patch reader compares too.
const QUOTE = 34
const COMMA = 44
export const MINUS = 45
const DOT = 46
export const ZERO = 48
export const NINE = 57
const OPEN_LIST = 91
const BACKSLASH = 92
export const CLOSE_LIST = 93
export const CLOSE_OBJECT = 125

/** Gives up on a text this reader does not take. */
const GIVE_UP = Symbol('give up')

/** The value of `text`, JSON. @throws SyntaxError when it is not JSON */
export function parsePatchesText(text: string): unknown {
  const read = readPatches(text)
  return read === GIVE_UP ? JSON.parse(text) : read
}

/** A list of patches in the plain form, or GIVE_UP. */
function readPatches(text: string): unknown[] | typeof GIVE_UP {
  if (text.charCodeAt(0) !== OPEN_LIST) return GIVE_UP
  const patches: unknown[] = []
  let at = 1
  if (text.charCodeAt(at) === CLOSE_LIST) return at + 1 === text.length ? patches : GIVE_UP
  for (;;) {
    if (!text.startsWith('{"op":"', at)) return GIVE_UP
    const opEnd = stringEnd(text, at + 7)
    if (opEnd < 0 || !text.startsWith('","path":[', opEnd)) return GIVE_UP
    const op = known(text, at + 7, opEnd)
    at = opEnd + 10
    const path: unknown[] = []
    if (text.charCodeAt(at) === CLOSE_LIST) at++
    else {
      for (;;) {
        const end = scalarEnd(text, at)
        if (end < 0) return GIVE_UP
        path.push(scalarOf(text, at, end))
        at = end
        const next = text.charCodeAt(at++)
        if (next === CLOSE_LIST) break
        if (next !== COMMA) return GIVE_UP
      }
    }
    if (text.charCodeAt(at) === CLOSE_OBJECT) {
      patches.push({ op, path })
      at++
    } else {
      if (!text.startsWith(',"value":', at)) return GIVE_UP
      at += 9
      const end = scalarEnd(text, at)
      if (end < 0 || text.charCodeAt(end) !== CLOSE_OBJECT) return GIVE_UP
      patches.push({ op, path, value: scalarOf(text, at, end) })
      at = end + 1
    }
    const next = text.charCodeAt(at++)
    if (next === CLOSE_LIST) return at === text.length ? patches : GIVE_UP
    if (next !== COMMA) return GIVE_UP
  }
}

/** The ops a server writes, and the last key read: most patches repeat them, and are given the same string. */
const KNOWN = ['replace', 'add', 'remove', '']

/** The text from `at` to `end`: one of {@link KNOWN} when it is that, so that no new string is made. */
function known(text: string, at: number, end: number): string {
  for (let k = 0; k < KNOWN.length; k++) {
    const word = KNOWN[k]!
    if (word.length === end - at && text.startsWith(word, at)) return word
  }
  const word = text.slice(at, end)
  KNOWN[KNOWN.length - 1] = word
  return word
}

/** Where the string whose characters start at `at` ends (its closing quote), or -1 when it has an escape or a control character. */
function stringEnd(text: string, at: number): number {
  for (let k = at; k < text.length; k++) {
    const code = text.charCodeAt(k)
    if (code === QUOTE) return k
    if (code === BACKSLASH || code < 0x20) return -1
  }
  return -1
}

/** Where the plain scalar (string, number, true, false, null) at `at` ends, or -1 when there is none. */
function scalarEnd(text: string, at: number): number {
  const first = text.charCodeAt(at)
  if (first === QUOTE) {
    const end = stringEnd(text, at + 1)
    return end < 0 ? -1 : end + 1
  }
  if (first === MINUS || (first >= ZERO && first <= NINE)) return numberEnd(text, at)
  if (text.startsWith('true', at) || text.startsWith('null', at)) return at + 4
  return text.startsWith('false', at) ? at + 5 : -1
}

/** Where the JSON number at `at` ends: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, or -1. */
function numberEnd(text: string, at: number): number {
  let k = at
  if (text.charCodeAt(k) === MINUS) k++
  if (text.charCodeAt(k) === ZERO) k++
  else {
    const start = k
    k = digitsEnd(text, k)
    if (k === start) return -1
  }
  if (text.charCodeAt(k) === DOT) {
    const start = k + 1
    k = digitsEnd(text, start)
    if (k === start) return -1
  }
  const e = text.charCodeAt(k)
  if (e === 101 || e === 69) {
    k++
    const sign = text.charCodeAt(k)
    if (sign === 43 || sign === MINUS) k++
    const start = k
    k = digitsEnd(text, k)
    if (k === start) return -1
  }
  return k
}

function digitsEnd(text: string, at: number): number {
  let k = at
  for (let code = text.charCodeAt(k); code >= ZERO && code <= NINE; code = text.charCodeAt(++k));
  return k
}

/** The scalar from `at` to `end`, found by {@link scalarEnd}. */
function scalarOf(text: string, at: number, end: number): unknown {
  const first = text.charCodeAt(at)
  if (first === QUOTE) return known(text, at + 1, end - 1)
  if (first === 116) return true
  if (first === 102) return false
  if (first === 110) return null
  // An integer of up to 15 digits is exact as a double: summed here without making a string.
  const negative = first === MINUS
  const digits = negative ? at + 1 : at
  if (end - digits <= 15) {
    let value = 0
    for (let k = digits; k < end; k++) {
      const code = text.charCodeAt(k)
      if (code < ZERO || code > NINE) return Number(text.slice(at, end))
      value = value * 10 + (code - ZERO)
    }
    return negative ? -value : value
  }
  // The same decimal-to-double rounding as JSON.parse, on a text checked to be a JSON number.
  return Number(text.slice(at, end))
}
