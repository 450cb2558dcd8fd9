import { describe, expect, it } from 'vitest'
import { encodeActionResult } from '@ipc-state/protocol/wire'
import { decodeSnapshot, encodeSnapshot } from './snapshot-key.js'

describe('snapshots in Redis', () => {
  it('come back as they were written', () => {
    const instances = [
      {
        instanceId: 'a',
        since: 1,
        forgotten: -1,
        answers: [
          { id: 2, version: 5, valueJson: '"two"' },
          { id: 3, version: 6 },
        ],
      },
    ]
    const bytes = encodeSnapshot(7, 2, instances, Buffer.from('{"counter":3}'))
    expect(decodeSnapshot(bytes)).toEqual({ version: 7, storeVersion: 2, instances, present: [], state: { counter: 3 } })
    // The instances present come back too, and the state is still found after them.
    const present = [{ instanceId: 'w"],"state":', clientId: 'c', server: 's1' }]
    const withPresent = encodeSnapshot(7, 2, instances, Buffer.from('{"counter":3}'), present)
    expect(decodeSnapshot(withPresent)).toEqual({ version: 7, storeVersion: 2, instances, present, state: { counter: 3 } })
    expect(() =>
      decodeSnapshot(Buffer.from('{"version":1,"storeVersion":1,"instances":[],"present":[{"instanceId":1}],"state":{}}')),
    ).toThrow(TypeError)
  })

  it('read the answer frames earlier versions kept as the values they carry', () => {
    const frames = [
      { id: 2, frame: encodeActionResult(2, 5, '{"a":[1]}') },
      { id: 3, frame: encodeActionResult(3, 6, undefined) },
    ]
    const bytes = encodeSnapshot(7, 1, [{ instanceId: 'a', since: 1, forgotten: -1, answers: frames } as never], Buffer.from('{}'))
    expect(decodeSnapshot(bytes).instances[0]!.answers).toEqual([
      { id: 2, version: 5, valueJson: '{"a":[1]}' },
      { id: 3, version: 6 },
    ])
    const wrong = encodeSnapshot(
      7,
      1,
      [{ instanceId: 'a', since: 1, forgotten: -1, answers: [{ id: 2, frame: '{}' }] } as never],
      Buffer.from('{}'),
    )
    expect(() => decodeSnapshot(wrong)).toThrow(TypeError)
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
