import { describe, expect, it } from 'vitest'
import { decodeEntry, encodeEntries, follows, positionOf, readEntry, type StreamEntry } from './log-entries.js'
import { ENTRY_FIELDS } from './scripts.js'

/** The fields the commit script stores for the entry whose arguments start at `offset`. */
function storedAs(args: string[], offset: number): string[] {
  const [kind, instanceId, n, p, v, h, a, k, m] = args.slice(offset, offset + ENTRY_FIELDS)
  if (kind !== 'c') return ['t', 'i', 'i', instanceId!, 'n', n!]
  const fields = ['t', 'c', 'i', instanceId!, 'n', n!, 'p', p!, 'v', v!, 'h', h!, 'a', a!, 'k', k!]
  return m === '' ? fields : [...fields, 'm', m!]
}

describe('log entries', () => {
  it('come back from the log as the server wrote them', () => {
    const args = encodeEntries([
      { kind: 'instance', instanceId: 'a', since: 4 },
      { kind: 'change', version: 7, patchesJson: '[1]', instanceId: 'a', id: 5, valueJson: '"x"', action: 'add', clientId: 'c' },
      { kind: 'change', version: 8, patchesJson: '[2]', instanceId: 'a', id: 6, valueJson: undefined },
      { kind: 'change', version: 9, patchesJson: '[3]', instanceId: 'a', id: 7, valueJson: '' },
      { kind: 'change', version: 10, patchesJson: '[]', instanceId: '', id: 0, valueJson: undefined, presenceJson: '{"left":"w"}' },
    ])
    expect(args).toHaveLength(5 * ENTRY_FIELDS)
    const entries: StreamEntry[] = [
      ['6-1', storedAs(args, 0)],
      ['7-0', storedAs(args, ENTRY_FIELDS)],
      ['8-0', storedAs(args, 2 * ENTRY_FIELDS)],
      ['9-0', storedAs(args, 3 * ENTRY_FIELDS)],
      ['10-0', storedAs(args, 4 * ENTRY_FIELDS)],
    ]
    expect(entries.map(decodeEntry)).toEqual([
      { kind: 'instance', instanceId: 'a', since: 4 },
      { kind: 'change', version: 7, patchesJson: '[1]', instanceId: 'a', id: 5, valueJson: '"x"', action: 'add', clientId: 'c' },
      { kind: 'change', version: 8, patchesJson: '[2]', instanceId: 'a', id: 6, valueJson: undefined },
      { kind: 'change', version: 9, patchesJson: '[3]', instanceId: 'a', id: 7, valueJson: '' },
      { kind: 'change', version: 10, patchesJson: '[]', instanceId: '', id: 0, valueJson: undefined, presenceJson: '{"left":"w"}' },
    ])
  })

  it('refuses an entry another program wrote', () => {
    expect(() => decodeEntry(['1-0', ['foo', 'bar']])).toThrow(TypeError)
  })

  it('refuses an entry that is almost one it wrote, field by field', () => {
    const change = ['t', 'c', 'i', 'a', 'n', '5', 'p', '[]', 'v', '', 'h', '0', 'a', '', 'k', '']
    expect(decodeEntry(['7-0', change])).toMatchObject({ kind: 'change', version: 7, id: 5 })
    const refused: StreamEntry[] = [
      // An id XADD * makes, a change at an instance record's place, and the other way round.
      ['1765000000000000000-0', change],
      ['7-1', change],
      ['7-0', ['t', 'i', 'i', 'a', 'n', '4']],
      ['0-0', change],
      // A field too many, one missing, one twice, a value that is not what it stands for.
      ['7-0', [...change, 'x', 'y']],
      ['7-0', change.slice(0, -2)],
      ['7-0', [...change.slice(0, -2), 'i', 'b']],
      ['7-0', change.map((value, i) => (change[i - 1] === 'n' ? '-1' : value))],
      ['7-0', change.map((value, i) => (change[i - 1] === 'n' ? '1e3' : value))],
      ['7-0', change.map((value, i) => (change[i - 1] === 'h' ? 'yes' : value))],
      ['7-0', change.map((value, i) => (change[i - 1] === 'p' ? '{}' : value))],
      ['7-0', [...change, 's', 'two']],
      ['7-0', [...change, 'odd']],
    ]
    for (const entry of refused) expect(() => decodeEntry(entry), JSON.stringify(entry)).toThrow(TypeError)
  })

  it('refuse a field longer than the bound on one change, patches or answer, before parsing it', () => {
    const change = (p: string, v: string) => ['t', 'c', 'i', 'a', 'n', '5', 'p', p, 'v', v, 'h', '1', 'a', '', 'k', '']
    const patches = `[${'1,'.repeat(48)}10]`
    expect(patches).toHaveLength(100)
    expect(readEntry(['7-0', change(patches, '"x"')], 100).update).toMatchObject({ patchesJson: patches })
    expect(() => readEntry(['7-0', change(`${patches} `, '"x"')], 100)).toThrow(/field "p" is longer than the 100 bytes/)
    expect(() => readEntry(['7-0', change('[]', `"${'x'.repeat(99)}"`)], 100)).toThrow(/field "v" is longer/)
    // Not JSON at all: refused by its length, never parsed.
    expect(() => readEntry(['7-0', change(`[${'{'.repeat(200)}`, '')], 100)).toThrow(/field "p" is longer/)
  })

  it("read a migration's store version", () => {
    const change = ['t', 'c', 'i', '', 'n', '0', 'p', '[]', 'v', '', 'h', '0', 'a', '', 'k', '', 's', '2']
    expect(readEntry(['4-0', change]).storeVersion).toBe(2)
    expect(readEntry(['4-0', change.slice(0, -2)]).storeVersion).toBeUndefined()
  })

  it('tell a hole in the numbering', () => {
    const at = positionOf('7-2')
    expect(at).toEqual({ version: 7, seq: 2 })
    expect(follows(at, positionOf('7-3'))).toBe(true)
    expect(follows(at, positionOf('8-0'))).toBe(true)
    expect(follows(at, positionOf('8-1'))).toBe(false)
    expect(follows(at, positionOf('9-0'))).toBe(false)
    expect(follows(at, positionOf('7-4'))).toBe(false)
  })
})
