import { describe, expect, it } from 'vitest'
import { PatchesReader } from './packed-patches.js'

/** Reads `texts` in order with one reader, each as it is read, or the error it throws. */
function readAll(texts: readonly string[], read: (reader: PatchesReader, start: number, end: number) => unknown): unknown[] {
  const parts = texts.map((text) => Buffer.from(text))
  const bytes = Buffer.concat(parts)
  const reader = new PatchesReader(bytes, (start, end) => bytes.toString('utf8', start, end))
  let at = 0
  return parts.map((part) => {
    const start = at
    at += part.length
    try {
      return { value: read(reader, start, at) }
    } catch (error) {
      return { error: (error as Error).name }
    }
  })
}

const set = (value: string, path = '["counter"]') => `[{"op":"replace","path":${path},"value":${value}}]`

describe('PatchesReader', () => {
  it('reads each of a run of changes as JSON.parse does, the same place set to other integers and to anything else', () => {
    const texts = [
      set('1'),
      set('2'),
      set('-7'),
      set('-0'),
      set('0'),
      set('05'),
      set('123456789012345'),
      set('1234567890123456'),
      set('9007199254740993'),
      set('1.5'),
      set('1e3'),
      set('"3"'),
      set('3 '),
      `${set('4')} `,
      set('4').replace('}]', '},{"op":"remove","path":["x"]}]'),
      set('5', '["other"]'),
      set('6'),
      set('7', '["__proto__"]'),
      set('8'),
      '[{"op":"replace","path":["counter"],"value":"x","value":9}]',
      '[{"op":"replace","path":["counter"],"value":"x","value":10}]',
      '[{"op":"replace","path":["counter"],"value":11,"op":"add"}]',
      '[{"op":"replace","path":["counter"],"value":12,"op":"add"}]',
      '[{"__proto__":1,"op":"replace","path":["counter"],"value":13}]',
      '[{"__proto__":1,"op":"replace","path":["counter"],"value":14}]',
      '[{"op":"replace","path":["\\"value\\":"],"value":15}]',
      '[{"op":"replace","path":["\\"value\\":"],"value":16}]',
      set('17').slice(0, -1),
      set(''),
      set('-'),
    ]
    const read = readAll(texts, (reader, start, end) => reader.read(start, end))
    const parsed = readAll(texts, (_reader, start, end) =>
      JSON.parse(Buffer.concat(texts.map((text) => Buffer.from(text))).toString('utf8', start, end)),
    )
    read.forEach((outcome, k) => {
      expect(outcome, texts[k]).toEqual(parsed[k])
      const value = (outcome as { value?: [{ value: unknown }] }).value?.[0]?.value
      expect(Object.is(value, (parsed[k] as { value?: [{ value: unknown }] }).value?.[0]?.value), texts[k]).toBe(true)
    })
  })

  it('makes no text of a change that sets the place of the one before to another integer', () => {
    const bytes = Buffer.from([set('1'), set('22'), set('-333')].join(''))
    const texts: string[] = []
    const reader = new PatchesReader(bytes, (start, end) => {
      texts.push(bytes.toString('utf8', start, end))
      return texts.at(-1)!
    })
    const one = set('1').length
    const two = one + set('22').length
    expect([reader.read(0, one), reader.read(one, two), reader.read(two, bytes.length)]).toEqual([
      JSON.parse(set('1')),
      JSON.parse(set('22')),
      JSON.parse(set('-333')),
    ])
    expect(texts).toEqual([set('1')])
  })
})
