import { describe, expect, it } from 'vitest'
import { formatJson, wantsColor } from './output.js'

describe('wantsColor', () => {
  it('colours a terminal only, and never with NO_COLOR set', () => {
    expect(wantsColor({ write: () => true, isTTY: true }, {})).toBe(true)
    expect(wantsColor({ write: () => true }, {})).toBe(false)
    expect(wantsColor({ write: () => true, isTTY: true }, { NO_COLOR: '1' })).toBe(false)
  })
})

describe('formatJson', () => {
  it('prints indented or compact JSON, and undefined as null', () => {
    expect(formatJson({ a: [1] })).toBe('{\n  "a": [\n    1\n  ]\n}')
    expect(formatJson({ a: [1] }, { compact: true })).toBe('{"a":[1]}')
    expect(formatJson(undefined)).toBe('null')
  })

  it('colours keys, strings, numbers and literals, and strips back to the same text', () => {
    const value = { key: 'a "quoted": 1', n: -1.5e3, ok: true, none: null }
    const coloured = formatJson(value, { color: true })
    expect(coloured).toContain('\u001b[36m"key"\u001b[0m:')
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the escape is what is being removed
    expect(coloured.replace(/\u001b\[\d+m/g, '')).toBe(formatJson(value))
  })
})
