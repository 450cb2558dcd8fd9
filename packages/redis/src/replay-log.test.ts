import { describe, expect, it } from 'vitest'
import { decodeSnapshot, encodeSnapshot } from './replay-log.js'

describe('snapshots in Redis', () => {
  it('come back as they were written', () => {
    const instances = [{ instanceId: 'a', since: 1, forgotten: -1, answers: [{ id: 2, frame: '{}' }] }]
    const bytes = encodeSnapshot(7, 2, instances, Buffer.from('{"counter":3}'))
    expect(decodeSnapshot(bytes)).toEqual({ version: 7, storeVersion: 2, instances, state: { counter: 3 } })
  })

  it('are refused when they are not ones this storage wrote', () => {
    const refused = [
      'not json',
      '[]',
      'null',
      '{"version":-1,"storeVersion":1,"instances":[],"state":{}}',
      '{"version":1.5,"storeVersion":1,"instances":[],"state":{}}',
      '{"version":1,"instances":[],"state":{}}',
      '{"version":1,"storeVersion":1,"instances":{},"state":{}}',
      '{"version":1,"storeVersion":1,"instances":[{"instanceId":1}],"state":{}}',
      '{"version":1,"storeVersion":1,"instances":[{"instanceId":"a","since":1,"forgotten":-1,"answers":[null]}],"state":{}}',
      '{"version":1,"storeVersion":1,"instances":[],"state":[]}',
      '{"version":1,"storeVersion":1,"instances":[],"state":null}',
      '{"version":1,"storeVersion":1,"instances":[],"state":"x"}',
    ]
    for (const text of refused) expect(() => decodeSnapshot(Buffer.from(text)), text).toThrow(TypeError)
  })

  it('are refused unparsed when their state passes the bound', () => {
    const bytes = encodeSnapshot(7, 2, [], Buffer.from(`{"text":"${'x'.repeat(90)}"}`))
    expect(decodeSnapshot(bytes, 101).state).toEqual({ text: 'x'.repeat(90) })
    expect(() => decodeSnapshot(bytes, 100)).toThrow(/a state of 101 bytes, more than the 100/)
    // Not JSON after the state's key: refused by its length all the same.
    const broken = Buffer.from(`{"version":1,"storeVersion":1,"instances":[],"state":${'['.repeat(200)}}`)
    expect(() => decodeSnapshot(broken, 100)).toThrow(/more than the 100/)
  })
})
