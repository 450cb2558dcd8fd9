import { describe, expect, it } from 'vitest'
import { parsePatchesText } from './patches-text.js'

/** What JSON.parse makes of `text`, or the error it throws. */
function outcome(read: (text: string) => unknown, text: string): unknown {
  try {
    return { value: read(text) }
  } catch (error) {
    return { error: (error as Error).name }
  }
}

const values = [
  '0',
  '-0',
  '7',
  '-12',
  '123456789012345',
  '-999999999999999',
  '1234567890123456789',
  '9007199254740993',
  '1.5',
  '-0.25e-3',
  '1e5',
  '1E+21',
  '2e308',
  '01',
  '1.',
  '.5',
  '-',
  '1e',
  '+1',
  'true',
  'false',
  'null',
  'tru',
  'nul',
  '""',
  '"x"',
  '"é \u{1F600}"',
  '"\ud800"',
  '"a\\"b"',
  '"a\\u0041"',
  '"tab\there"',
  '"__proto__"',
  '{"a":1}',
  '[1,2]',
  '{}',
  ' 1',
]
const paths = ['[]', '["counter"]', '["list",0]', '["list","-"]', '["items","__proto__"]', '[01]', '["a" ]', '[1,]', '[,1]']

describe('parsePatchesText', () => {
  it('gives what JSON.parse gives, value for value and error for error, on patches of every plain and odd shape', () => {
    const texts = ['[]', '[ ]', '[]x', '', '{}', 'null', '[{"op":"remove","path":["a"]}]', '[{"path":["a"],"op":"add","value":1}]']
    for (const value of values) {
      for (const path of paths) {
        texts.push(`[{"op":"replace","path":${path},"value":${value}}]`)
        texts.push(`[{"op":"add","path":${path},"value":${value}},{"op":"remove","path":${path}}]`)
      }
      texts.push(`[{"op":"add","path":["a"],"value":${value}}`)
      texts.push(`[{"op":"add","path":["a"],"value":${value},"value":2}]`)
      texts.push(`[{"op":${value},"path":["a"]}]`)
      texts.push(`[{"op":"add","path":["a"],"value":${value}}] `)
    }
    for (const text of texts) expect(outcome(parsePatchesText, text), text).toEqual(outcome(JSON.parse, text))
  })

  it('keeps the sign of a zero, and reads a long integer with JSON.parse rounding', () => {
    const [patch] = parsePatchesText('[{"op":"replace","path":["n"],"value":-0}]') as [{ value: number }]
    expect(Object.is(patch.value, -0)).toBe(true)
    const [long] = parsePatchesText('[{"op":"replace","path":["n"],"value":9007199254740993}]') as [{ value: number }]
    expect(long.value).toBe(JSON.parse('9007199254740993'))
  })

  it('makes a key "__proto__" in a path an item like any other, as JSON.parse does', () => {
    const text = '[{"op":"add","path":["__proto__"],"value":"__proto__"}]'
    expect(parsePatchesText(text)).toEqual(JSON.parse(text))
  })
})
