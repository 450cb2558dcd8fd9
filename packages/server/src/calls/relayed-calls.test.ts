import { describe, expect, it } from 'vitest'
import { isReply } from './relayed-calls.js'

const reply = (responseJson: string, id = 7) => ({ instanceId: 'instance', id, responseJson })

describe('a reply read from the writer', () => {
  it('is taken when it reads as the response the writer writes to that call', () => {
    expect(isReply(reply('{"id":7,"result":{"version":3}}'))).toBe(true)
    expect(isReply(reply('{"id":7,"result":{"value":{"a":1},"version":3}}'))).toBe(true)
    expect(isReply(reply('{"id":7,"error":{"code":"BAD_ARGUMENTS","message":"no"}}'))).toBe(true)
  })

  it('is refused when it is not a response, or answers another call', () => {
    const refused = [
      '',
      'not json',
      '{"id":7,',
      'null',
      '7',
      '"text"',
      '[{"id":7,"result":{}}]',
      '{"id":8,"result":{"version":3}}',
      '{"id":"7","result":{"version":3}}',
      '{"result":{"version":3}}',
      '{"id":7}',
      '{"id":7,"result":1}',
      '{"id":7,"result":null}',
      '{"id":7,"result":{},"error":{"code":"X","message":"y"}}',
      // An error the client's decoder would not read: the call would fail with BAD_REQUEST instead.
      '{"id":7,"error":{}}',
      '{"id":7,"error":{"code":1,"message":"y"}}',
      '{"id":7,"error":{"code":"X"}}',
      '{"id":-7,"result":{}}',
      '{"id":7,"result":{},"error":null}',
      '{"id":7,"result":{},"error":{}}',
      '{"__proto__":{"id":7,"result":{}}}',
      '{"id":7,"__proto__":{"result":{}}}',
      '{"id":7,"error":{"__proto__":{"code":"X","message":"y"}}}',
    ]
    for (const json of refused) expect(isReply(reply(json)), json).toBe(false)
    // An id no client sends, even when the reply names the same one.
    expect(isReply(reply('{"id":9007199254740992,"result":{}}', 2 ** 53))).toBe(false)
    expect(isReply(reply('{"id":1.5,"result":{}}', 1.5))).toBe(false)
  })
})
