import { describe, it, expect } from 'vitest'
import { DEFAULT_MAX_DEPTH, MAX_NAME_LENGTH, isRequestId, isWithinDepth, type DecodeResult } from './validate.js'
import { decodeClientMessage } from './decode-client.js'
import { decodeServerMessage, isPatch } from './decode-server.js'
import { IpcStateError } from '../errors.js'
import type { ActionCallRequest, ClientMessage, ServerMessage } from '../messages.js'

const frame = (type: unknown, data?: unknown): string => JSON.stringify(data === undefined ? { type } : { type, data })

/** Asserts a BAD_REQUEST result, with `id` when given and no id at all otherwise. */
function expectBadRequest<M>(result: DecodeResult<M>, id?: number): void {
  expect(result.ok).toBe(false)
  if (result.ok) return
  expect(result.error).toBeInstanceOf(IpcStateError)
  expect(result.error.code).toBe('BAD_REQUEST')
  expect(typeof result.error.message).toBe('string')
  expect(result.error.message.length).toBeGreaterThan(0)
  if (id === undefined) expect('id' in result).toBe(false)
  else expect(result.id).toBe(id)
}

function expectOk<M>(result: DecodeResult<M>): M {
  if (!result.ok) throw new Error(`expected ok, got ${result.error.code}: ${result.error.message}`)
  return result.message
}

function actionCall(message: ClientMessage): ActionCallRequest {
  if (message.type !== 'action/call') throw new Error(`expected action/call, got ${message.type}`)
  return message.data
}

/** `levels` nested arrays: `[[...]]`. */
const nestedArrays = (levels: number): string => '['.repeat(levels) + ']'.repeat(levels)

describe('constants', () => {
  it('has the documented defaults', () => {
    expect(DEFAULT_MAX_DEPTH).toBe(64)
    expect(MAX_NAME_LENGTH).toBe(256)
  })
})

describe('isRequestId', () => {
  it.each([0, 1, 42, Number.MAX_SAFE_INTEGER])('accepts %s', (value) => {
    expect(isRequestId(value)).toBe(true)
  })

  it.each([-1, -0.5, 1.5, Number.MAX_SAFE_INTEGER + 1, Number.POSITIVE_INFINITY, Number.NaN, '1', null, undefined, true, [1]])(
    'rejects %s',
    (value) => {
      expect(isRequestId(value)).toBe(false)
    },
  )
})

describe('isWithinDepth', () => {
  it('treats primitives as depth 0', () => {
    for (const value of [null, undefined, 1, 'x', true]) {
      expect(isWithinDepth(value, 0)).toBe(true)
    }
  })

  it('counts each array or object as one level', () => {
    expect(isWithinDepth({}, 1)).toBe(true)
    expect(isWithinDepth({}, 0)).toBe(false)
    expect(isWithinDepth({ a: [1, { b: 2 }] }, 3)).toBe(true)
    expect(isWithinDepth({ a: [1, { b: 2 }] }, 2)).toBe(false)
    expect(isWithinDepth({ a: [1, { b: {} }] }, 3)).toBe(false)
  })

  it('looks at every branch, not only the first', () => {
    const value = { a: 1, b: [], c: { d: { e: { f: {} } } } }
    expect(isWithinDepth(value, 5)).toBe(true)
    expect(isWithinDepth(value, 4)).toBe(false)
    expect(isWithinDepth([[], [], [[[]]]], 3)).toBe(false)
  })

  it('handles 100 000 levels without overflowing the stack', () => {
    let value: unknown = []
    for (let i = 1; i < 100_000; i++) value = [value]
    expect(isWithinDepth(value, 64)).toBe(false)
    expect(isWithinDepth(value, 100_000)).toBe(true)
    expect(isWithinDepth(value, 99_999)).toBe(false)
  })

  it('stops at the first level past the limit, however deep the value goes', () => {
    // Counts the levels it reads, instead of timing the walk: a proxy on each level sees every read.
    const touched = new Set<number>()
    const counted = (target: object, level: number): object =>
      new Proxy(target, {
        ownKeys(inner) {
          touched.add(level)
          return Reflect.ownKeys(inner)
        },
        get(inner, key) {
          touched.add(level)
          return Reflect.get(inner, key)
        },
        getOwnPropertyDescriptor(inner, key) {
          touched.add(level)
          return Reflect.getOwnPropertyDescriptor(inner, key)
        },
        has(inner, key) {
          touched.add(level)
          return Reflect.has(inner, key)
        },
      })
    let value = counted([], 100_000)
    for (let level = 99_999; level >= 1; level--) value = counted([value], level)
    expect(isWithinDepth(value, 64)).toBe(false)
    expect(touched.size).toBeGreaterThan(0)
    expect(Math.max(...touched)).toBeLessThanOrEqual(65)
  })

  it('handles a very deep object parsed from JSON', () => {
    const parsed: unknown = JSON.parse('{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000))
    expect(isWithinDepth(parsed, 64)).toBe(false)
  })
})

describe('isPatch', () => {
  it.each([
    ['add', { op: 'add', path: ['a', 0], value: 1 }],
    ['add with a null value', { op: 'add', path: ['a'], value: null }],
    ['replace', { op: 'replace', path: [], value: { a: 1 } }],
    ['remove', { op: 'remove', path: ['a', 'b'] }],
    ['remove with a value (Immer Set patches)', { op: 'remove', path: ['a'], value: 1 }],
    ['array append', { op: 'add', path: ['list', '-'], value: 1 }],
    ['replace length', { op: 'replace', path: ['list', 'length'], value: 0 }],
  ])('accepts %s', (_label, value) => {
    expect(isPatch(value)).toBe(true)
  })

  it.each([
    ['null', null],
    ['an array', [{ op: 'add', path: [], value: 1 }]],
    ['a missing op', { path: ['a'], value: 1 }],
    ['an unknown op', { op: 'move', path: ['a'], from: ['b'] }],
    ['op "test"', { op: 'test', path: ['a'], value: 1 }],
    ['add without a value', { op: 'add', path: ['a'] }],
    ['replace without a value', { op: 'replace', path: ['a'] }],
    ['a missing path', { op: 'remove' }],
    ['a string path (JSON Pointer)', { op: 'remove', path: '/a/b' }],
    ['a path with a fractional index', { op: 'remove', path: ['a', 1.5] }],
    ['a path with an unsafe index', { op: 'remove', path: ['a', 2 ** 53] }],
    ['a path with null', { op: 'remove', path: ['a', null] }],
    ['a path with an object', { op: 'remove', path: [{}] }],
    ['a path with a boolean', { op: 'remove', path: [true] }],
  ])('rejects %s', (_label, value) => {
    expect(isPatch(value)).toBe(false)
  })
})

describe('decodeClientMessage', () => {
  describe('hostile input: BAD_REQUEST, never a throw', () => {
    it.each([
      ['invalid JSON', '{"type":'],
      ['empty frame', ''],
      ['a number', '123'],
      ['a string', '"str"'],
      ['an array', '[]'],
      ['null', 'null'],
      ['true', 'true'],
      ['an empty object', '{}'],
      ['data without type', '{"data":{}}'],
      ['data with id but no type', '{"data":{"id":1}}'],
      ['a numeric type', '{"type":42}'],
      ['a null type', '{"type":null,"data":{"id":1}}'],
      ['an array type', '{"type":["hello"],"data":{"id":1}}'],
      ['a NaN-ish literal', '{"type":"hello","data":NaN}'],
      ['trailing garbage', '{"type":"state/get","data":{"id":1}} x'],
      ['a lone surrogate as type', '{"type":"\\ud800"}'],
    ])('%s', (_label, text) => {
      expectBadRequest(decodeClientMessage(text))
    })

    it.each([
      '__proto__',
      'constructor',
      'toString',
      'hasOwnProperty',
      'valueOf',
      'start',
      'error',
      'connect',
      'data',
      'socket.disconnected',
      'destroy',
      '',
      'HELLO',
      'hello ',
      'sharedData',
      'response',
      'x'.repeat(100_000),
    ])('type %j is unknown', (type) => {
      expectBadRequest(decodeClientMessage(frame(type)))
      expectBadRequest(decodeClientMessage(frame(type, { id: 3 })), 3)
    })

    it('does not echo a huge unknown type in full', () => {
      const result = decodeClientMessage(frame('y'.repeat(100_000), { id: 1 }))
      expectBadRequest(result, 1)
      if (!result.ok) expect(result.error.message.length).toBeLessThan(1000)
    })

    it('handles a __proto__ key in the envelope as plain data', () => {
      const result = decodeClientMessage('{"__proto__":{"type":"hello"},"data":{"id":1}}')
      expectBadRequest(result)
      expect(({} as Record<string, unknown>).type).toBeUndefined()
    })

    it('echoes the id with an unknown type only when it is a valid id', () => {
      expectBadRequest(decodeClientMessage(frame('nope', { id: 17 })), 17)
      expectBadRequest(decodeClientMessage(frame('nope', { id: 0 })), 0)
      expectBadRequest(decodeClientMessage(frame('nope', { id: -1 })))
      expectBadRequest(decodeClientMessage(frame('nope', { id: '17' })))
      expectBadRequest(decodeClientMessage(frame('nope', [17])))
      expectBadRequest(decodeClientMessage(frame('nope', 17)))
    })

    describe('hello', () => {
      const good = { id: 1, protocol: 1, clientId: 'client-a', replica: true }

      it.each([
        ['no data', undefined, undefined],
        ['data null', null, undefined],
        ['data an array', [good], undefined],
        ['missing id', { ...good, id: undefined }, undefined],
        ['missing protocol', { ...good, protocol: undefined }, 1],
        ['string protocol', { ...good, protocol: '1' }, 1],
        ['missing clientId', { ...good, clientId: undefined }, 1],
        ['numeric clientId', { ...good, clientId: 5 }, 1],
        ['empty clientId', { ...good, clientId: '' }, 1],
        ['257-character clientId', { ...good, clientId: 'c'.repeat(257) }, 1],
        ['missing replica', { ...good, replica: undefined }, 1],
        ['string replica', { ...good, replica: 'true' }, 1],
        ['numeric replica', { ...good, replica: 1 }, 1],
      ])('rejects %s', (_label, data, id) => {
        expectBadRequest(decodeClientMessage(frame('hello', data)), id)
      })
    })

    describe('action/call', () => {
      it.each([
        ['a missing action', { id: 2 }],
        ['a numeric action', { id: 2, action: 5 }],
        ['a null action', { id: 2, action: null }],
        ['an array action', { id: 2, action: ['increment'] }],
        ['an object action', { id: 2, action: { name: 'increment' } }],
        ['an empty action', { id: 2, action: '' }],
        ['a 257-character action', { id: 2, action: 'a'.repeat(257) }],
      ])('rejects %s, echoing the id', (_label, data) => {
        expectBadRequest(decodeClientMessage(frame('action/call', data)), 2)
      })

      it('accepts a 256-character action', () => {
        const message = expectOk(decodeClientMessage(frame('action/call', { id: 2, action: 'a'.repeat(256) })))
        expect(message).toEqual({ type: 'action/call', data: { id: 2, action: 'a'.repeat(256) } })
      })
    })

    describe('bad ids', () => {
      it.each([
        ['negative', '-1'],
        ['negative fractional', '-0.5'],
        ['fractional', '1.5'],
        ['exponent overflowing to Infinity', '1e400'],
        ['negative Infinity', '-1e400'],
        ['beyond MAX_SAFE_INTEGER', '9007199254740992'],
        ['a string', '"1"'],
        ['null', 'null'],
        ['true', 'true'],
        ['an array', '[1]'],
        ['an object', '{"n":1}'],
      ])('rejects a %s id in every request type', (_label, idJson) => {
        for (const [type, rest] of [
          ['hello', ',"protocol":1,"clientId":"c","replica":false'],
          ['state/get', ''],
          ['action/call', ',"action":"a"'],
          ['server/info', ''],
          ['changes/list', ''],
        ] as const) {
          const text = `{"type":"${type}","data":{"id":${idJson}${rest}}}`
          expectBadRequest(decodeClientMessage(text))
        }
      })

      it('accepts 1e2 as the integer 100', () => {
        expect(expectOk(decodeClientMessage('{"type":"state/get","data":{"id":1e2}}'))).toEqual({
          type: 'state/get',
          data: { id: 100 },
        })
      })
    })

    describe('deep nesting', () => {
      it.each([100, 100_000])('rejects %i levels of arrays with the id', (levels) => {
        const text = `{"type":"action/call","data":{"id":5,"action":"a","input":${nestedArrays(levels)}}}`
        expectBadRequest(decodeClientMessage(text), 5)
      })

      it.each([100, 100_000])('rejects %i levels as data without an id', (levels) => {
        expectBadRequest(decodeClientMessage(`{"type":"getSharedData","data":${nestedArrays(levels)}}`))
      })

      it('rejects deep nesting even under an unknown type', () => {
        expectBadRequest(decodeClientMessage(`{"type":"nope","data":{"id":8,"x":${nestedArrays(1000)}}}`), 8)
      })

      it('accepts input nested up to the default limit of 64, data itself counting as one', () => {
        const ok = `{"type":"action/call","data":{"id":1,"action":"a","input":${nestedArrays(63)}}}`
        const tooDeep = `{"type":"action/call","data":{"id":1,"action":"a","input":${nestedArrays(64)}}}`
        expect(expectOk(decodeClientMessage(ok)).type).toBe('action/call')
        expectBadRequest(decodeClientMessage(tooDeep), 1)
      })

      it('honours the maxDepth option', () => {
        const text = `{"type":"action/call","data":{"id":4,"action":"a","input":[[1]]}}`
        expect(decodeClientMessage(text, { maxDepth: 3 }).ok).toBe(true)
        expectBadRequest(decodeClientMessage(text, { maxDepth: 2 }), 4)
        expect(
          decodeClientMessage(`{"type":"action/call","data":{"id":4,"action":"a","input":${nestedArrays(200)}}}`, {
            maxDepth: Number.POSITIVE_INFINITY,
          }).ok,
        ).toBe(true)
      })
    })

    describe('keys that lead to a prototype', () => {
      it.each([
        ['a "__proto__" key in the input', '{"__proto__":{"admin":true}}'],
        ['a nested "__proto__" key', '[1,{"a":{"__proto__":{"x":1}}}]'],
        ['a "constructor" holding "prototype"', '{"constructor":{"prototype":{"admin":true}}}'],
      ])('refuses %s with the id', (_label, input) => {
        expectBadRequest(decodeClientMessage(`{"type":"action/call","data":{"id":7,"action":"a","input":${input}}}`), 7)
      })

      it('refuses a "__proto__" key in any message, even with maxDepth off', () => {
        expectBadRequest(
          decodeClientMessage('{"type":"hello","data":{"id":0,"protocol":1,"clientId":"c1","replica":false,"__proto__":{}}}'),
          0,
        )
        expectBadRequest(
          decodeClientMessage('{"type":"state/get","data":{"id":3,"__proto__":1}}', { maxDepth: Number.POSITIVE_INFINITY }),
          3,
        )
      })

      it('keeps strings that name a prototype, and a "constructor" without "prototype"', () => {
        const input = { key: '__proto__', sub: 'constructor', constructor: { name: 'x' }, prototype: 1 }
        const message = expectOk(decodeClientMessage(frame('action/call', { id: 1, action: 'a', input })))
        // toEqual: toStrictEqual would compare the input's `constructor` key as a class.
        expect(message).toEqual({ type: 'action/call', data: { id: 1, action: 'a', input } })
      })

      it('reads no field that Object.prototype could answer', () => {
        const proto = Object.prototype as Record<string, unknown>
        try {
          proto.input = 1000
          proto.binary = true
          proto.instanceId = 'i-inherited'
          proto.error = { code: 'X', message: 'inherited' }
          const call = expectOk(decodeClientMessage('{"type":"action/call","data":{"id":1,"action":"increment"}}'))
          expect(Object.hasOwn(call.data as object, 'input')).toBe(false)
          const hello = expectOk(decodeClientMessage(frame('hello', { id: 1, protocol: 1, clientId: 'c', replica: true })))
          expect(Object.keys(hello.data as object).sort()).toEqual(['clientId', 'id', 'protocol', 'replica'])
          const response = expectOk(decodeServerMessage(frame('response', { id: 2, result: { version: 1 } })))
          expect(response).toStrictEqual({ type: 'response', data: { id: 2, result: { version: 1 } } })
          expect(
            decodeServerMessage(frame('state/changed', { epoch: 'e', version: 1, patches: [{ op: 'add', path: ['a'] }] })).ok,
          ).toBe(false)
        } finally {
          delete proto.input
          delete proto.binary
          delete proto.instanceId
          delete proto.error
        }
      })
    })
  })

  describe('valid requests', () => {
    it('decodes hello, keeping only the known fields', () => {
      const message = expectOk(
        decodeClientMessage('{"type":"hello","data":{"id":0,"protocol":1,"clientId":"c1","replica":false,"extra":1,"admin":true}}'),
      )
      expect(message).toStrictEqual({
        type: 'hello',
        data: { id: 0, protocol: 1, clientId: 'c1', replica: false },
      })
    })

    it('decodes hello with another protocol number (checking it is the server’s job)', () => {
      const message = expectOk(decodeClientMessage(frame('hello', { id: 1, protocol: 99, clientId: 'c', replica: true })))
      expect(message).toStrictEqual({ type: 'hello', data: { id: 1, protocol: 99, clientId: 'c', replica: true } })
    })

    it('keeps an instanceId and refuses a malformed one', () => {
      const message = expectOk(
        decodeClientMessage(frame('hello', { id: 1, protocol: 1, clientId: 'c', instanceId: 'i-1', replica: true })),
      )
      expect(message).toStrictEqual({
        type: 'hello',
        data: { id: 1, protocol: 1, clientId: 'c', instanceId: 'i-1', replica: true },
      })
      for (const instanceId of ['', 5, 'i'.repeat(257)]) {
        const result = decodeClientMessage(frame('hello', { id: 1, protocol: 1, clientId: 'c', instanceId, replica: true }))
        expect(result.ok).toBe(false)
      }
    })

    it('accepts a 256-character clientId', () => {
      const clientId = 'c'.repeat(256)
      const message = expectOk(decodeClientMessage(frame('hello', { id: 1, protocol: 1, clientId, replica: true })))
      expect(message.type === 'hello' && message.data.clientId).toBe(clientId)
    })

    it('decodes state/get, keeping only the id', () => {
      const message = expectOk(decodeClientMessage(frame('state/get', { id: 7, state: 'x', extra: [1] })))
      expect(message).toStrictEqual({ type: 'state/get', data: { id: 7 } })
    })

    it('decodes changes/list, keeping only the id, and rejects it without one', () => {
      const message = expectOk(decodeClientMessage(frame('changes/list', { id: 4, since: 0 })))
      expect(message).toStrictEqual({ type: 'changes/list', data: { id: 4 } })
      expectBadRequest(decodeClientMessage(frame('changes/list', {})))
      expectBadRequest(decodeClientMessage(frame('changes/list', { id: -1 })))
    })

    it('decodes server/info, keeping only the id, and rejects it without one', () => {
      const message = expectOk(decodeClientMessage(frame('server/info', { id: 3, verbose: true })))
      expect(message).toStrictEqual({ type: 'server/info', data: { id: 3 } })
      expectBadRequest(decodeClientMessage(frame('server/info', {})))
      expectBadRequest(decodeClientMessage(frame('server/info')))
    })

    it('rejects state/get without an id', () => {
      expectBadRequest(decodeClientMessage(frame('state/get', {})))
      expectBadRequest(decodeClientMessage(frame('state/get')))
    })

    it('decodes action/call without input: no input key at all', () => {
      const message = expectOk(decodeClientMessage(frame('action/call', { id: 3, action: 'reset', extra: true })))
      expect(message).toStrictEqual({ type: 'action/call', data: { id: 3, action: 'reset' } })
      expect('input' in actionCall(message)).toBe(false)
    })

    it.each([
      ['a number', 5],
      ['zero', 0],
      ['null', null],
      ['false', false],
      ['an empty string', ''],
      ['an object', { text: 'hi', nested: { a: [1, 2] } }],
      ['an array', [1, 'two']],
    ])('decodes action/call with input %s, kept as is', (_label, input) => {
      const message = expectOk(decodeClientMessage(frame('action/call', { id: 3, action: 'add', input, extra: 1 })))
      expect(message).toStrictEqual({ type: 'action/call', data: { id: 3, action: 'add', input } })
      expect('input' in actionCall(message)).toBe(true)
    })

    it('accepts action names that are Object.prototype keys (routing them is the server’s job)', () => {
      const message = expectOk(decodeClientMessage(frame('action/call', { id: 1, action: '__proto__' })))
      expect(message).toStrictEqual({ type: 'action/call', data: { id: 1, action: '__proto__' } })
    })

    it('decodes the seed’s getSharedData with any data, or none', () => {
      expect(expectOk(decodeClientMessage(frame('getSharedData')))).toStrictEqual({
        type: 'getSharedData',
        data: undefined,
      })
      expect(expectOk(decodeClientMessage(frame('getSharedData', { anything: 1 })))).toStrictEqual({
        type: 'getSharedData',
        data: { anything: 1 },
      })
      expect(expectOk(decodeClientMessage('{"type":"getSharedData","data":null}'))).toStrictEqual({
        type: 'getSharedData',
        data: null,
      })
    })

    it('accepts the output of encodeFrame minus the delimiter', () => {
      const text = JSON.stringify({ type: 'state/get', data: { id: 12 } })
      expect(expectOk(decodeClientMessage(text))).toStrictEqual({ type: 'state/get', data: { id: 12 } })
    })

    it('accepts surrounding whitespace, as JSON.parse does', () => {
      expect(decodeClientMessage(' {"type":"state/get","data":{"id":1}}\n').ok).toBe(true)
    })
  })
})

describe('decodeServerMessage', () => {
  it('decodes a response with a result', () => {
    const message = expectOk(decodeServerMessage(frame('response', { id: 4, result: { value: 1, version: 2 }, x: 1 })))
    expect(message).toStrictEqual({ type: 'response', data: { id: 4, result: { value: 1, version: 2 } } })
  })

  it('decodes a response with no result as result undefined', () => {
    const message = expectOk(decodeServerMessage(frame('response', { id: 4 })))
    expect(message).toEqual({ type: 'response', data: { id: 4, result: undefined } })
  })

  it('decodes a response with an error, preferring it over a result', () => {
    const error = { code: 'ACTION_FAILED', message: 'it threw', data: { x: 1 } }
    const message = expectOk(decodeServerMessage(frame('response', { id: 5, error, result: 1 })))
    expect(message).toStrictEqual({ type: 'response', data: { id: 5, error } })
  })

  it('passes an unknown error code through (errorFromWire maps it later)', () => {
    const message = expectOk(decodeServerMessage(frame('response', { id: 5, error: { code: 'NEW', message: 'm' } })))
    expect(message).toStrictEqual({ type: 'response', data: { id: 5, error: { code: 'NEW', message: 'm' } } })
  })

  it.each([
    ['a string error', 'boom'],
    ['a null error', null],
    ['an error without code', { message: 'm' }],
    ['an error without message', { code: 'TIMEOUT' }],
    ['an error with a numeric code', { code: 1, message: 'm' }],
    ['an error with a numeric message', { code: 'TIMEOUT', message: 1 }],
    ['an array error', ['TIMEOUT', 'm']],
  ])('rejects a response with %s, naming its request', (_label, error) => {
    expectBadRequest(decodeServerMessage(frame('response', { id: 5, error })), 5)
  })

  it('names no request for a malformed change, even one carrying an id', () => {
    expectBadRequest(
      decodeServerMessage(frame('state/changed', { id: 5, epoch: 'e', version: 1, patches: [{ op: 'add', path: ['a'] }] })),
    )
  })

  it.each([
    ['no data', undefined],
    ['no id', { result: 1 }],
    ['a negative id', { id: -1, result: 1 }],
    ['a string id', { id: '1', result: 1 }],
  ])('rejects a response with %s', (_label, data) => {
    expectBadRequest(decodeServerMessage(frame('response', data)))
  })

  it('decodes state/changed with valid patches, dropping extra fields', () => {
    const patches = [
      { op: 'replace', path: ['counter'], value: 2 },
      { op: 'add', path: ['list', 0], value: { a: 1 } },
      { op: 'remove', path: ['old'] },
    ]
    const message = expectOk(decodeServerMessage(frame('state/changed', { epoch: 'e1', version: 9, patches, x: 1 })))
    expect(message).toStrictEqual({ type: 'state/changed', data: { epoch: 'e1', version: 9, patches } })
  })

  it('decodes state/changed with the action and client that made it', () => {
    const data = { epoch: 'e', version: 2, patches: [], action: 'increment', clientId: 'cli-1' }
    expect(expectOk(decodeServerMessage(frame('state/changed', data)))).toStrictEqual({ type: 'state/changed', data })
    const onlyAction = { epoch: 'e', version: 3, patches: [], action: 'reset' }
    expect(expectOk(decodeServerMessage(frame('state/changed', onlyAction)))).toStrictEqual({
      type: 'state/changed',
      data: onlyAction,
    })
  })

  it('decodes state/changed with no patches', () => {
    const message = expectOk(decodeServerMessage(frame('state/changed', { epoch: 'e', version: 0, patches: [] })))
    expect(message).toStrictEqual({ type: 'state/changed', data: { epoch: 'e', version: 0, patches: [] } })
  })

  it.each([
    ['a missing epoch', { version: 1, patches: [] }],
    ['a numeric epoch', { epoch: 1, version: 1, patches: [] }],
    ['a missing version', { epoch: 'e', patches: [] }],
    ['a negative version', { epoch: 'e', version: -1, patches: [] }],
    ['a fractional version', { epoch: 'e', version: 1.5, patches: [] }],
    ['missing patches', { epoch: 'e', version: 1 }],
    ['patches not an array', { epoch: 'e', version: 1, patches: { op: 'remove', path: ['a'] } }],
    ['a patch with an unknown op', { epoch: 'e', version: 1, patches: [{ op: 'move', path: ['a'], from: ['b'] }] }],
    ['a patch without a value', { epoch: 'e', version: 1, patches: [{ op: 'add', path: ['a'] }] }],
    [
      'one bad patch among good ones',
      {
        epoch: 'e',
        version: 1,
        patches: [
          { op: 'remove', path: ['a'] },
          { op: 'remove', path: 'b' },
        ],
      },
    ],
    ['an empty action', { epoch: 'e', version: 1, patches: [], action: '' }],
    ['a numeric action', { epoch: 'e', version: 1, patches: [], action: 7 }],
    ['a numeric clientId', { epoch: 'e', version: 1, patches: [], clientId: 7 }],
    ['a clientId too long', { epoch: 'e', version: 1, patches: [], clientId: 'c'.repeat(MAX_NAME_LENGTH + 1) }],
  ])('rejects state/changed with %s', (_label, data) => {
    expectBadRequest(decodeServerMessage(frame('state/changed', data)))
  })

  it('decodes server/closing with its reason, or a default one', () => {
    expect(expectOk(decodeServerMessage(frame('server/closing', { reason: 'restart', x: 1 })))).toStrictEqual({
      type: 'server/closing',
      data: { reason: 'restart' },
    })
    for (const data of [undefined, null, {}, { reason: 5 }, 'restart']) {
      expect(expectOk(decodeServerMessage(frame('server/closing', data)))).toStrictEqual({
        type: 'server/closing',
        data: { reason: 'server closing' },
      })
    }
  })

  it('decodes protocol/error, with fatal true only when it is exactly true', () => {
    const error = { code: 'BAD_REQUEST', message: 'bad' }
    expect(expectOk(decodeServerMessage(frame('protocol/error', { error, fatal: true })))).toStrictEqual({
      type: 'protocol/error',
      data: { error, fatal: true },
    })
    for (const fatal of [undefined, false, 'true', 1]) {
      expect(expectOk(decodeServerMessage(frame('protocol/error', { error, fatal })))).toStrictEqual({
        type: 'protocol/error',
        data: { error, fatal: false },
      })
    }
  })

  it('rejects protocol/error without a well-formed error', () => {
    expectBadRequest(decodeServerMessage(frame('protocol/error', { fatal: true })))
    expectBadRequest(decodeServerMessage(frame('protocol/error', { error: 'x' })))
    expectBadRequest(decodeServerMessage(frame('protocol/error')))
  })

  it('decodes the seed’s sharedData with the whole state as data', () => {
    const state = { counter: 3, list: [1, 2] }
    expect(expectOk(decodeServerMessage(frame('sharedData', state)))).toStrictEqual({ type: 'sharedData', data: state })
  })

  it.each(['hello', 'nope', '__proto__', 'constructor', 'toString', 'error'])(
    'rejects the unknown server type %j without an id',
    (type) => {
      expectBadRequest(decodeServerMessage(frame(type, { id: 1 })))
    },
  )

  it.each(['{', '1', '[]', 'null', '{"type":1}'])('rejects the malformed frame %j', (text) => {
    expectBadRequest(decodeServerMessage(text))
  })

  it('has no depth limit by default, since the server is trusted', () => {
    const deep = nestedArrays(1000)
    expect(expectOk(decodeServerMessage(`{"type":"sharedData","data":${deep}}`)).type).toBe('sharedData')
  })

  it('applies a depth limit when asked', () => {
    expectBadRequest(decodeServerMessage(`{"type":"sharedData","data":${nestedArrays(10)}}`, { maxDepth: 5 }))
    expectBadRequest(decodeServerMessage(`{"type":"response","data":{"id":3,"result":${nestedArrays(10)}}}`, { maxDepth: 5 }), 3)
  })

  it('never throws on hostile input', () => {
    for (const text of [
      '',
      '\u0000',
      '{"type":"response","data":{"id":1e400}}',
      `{"type":"state/changed","data":${nestedArrays(100_000)}}`,
    ]) {
      expect(() => decodeServerMessage(text)).not.toThrow()
      expect(decodeServerMessage(text).ok).toBe(false)
    }
  })
})

describe('DecodeResult types', () => {
  it('narrows on ok', () => {
    const result: DecodeResult<ClientMessage> = decodeClientMessage(frame('state/get', { id: 1 }))
    if (result.ok) {
      const message: ClientMessage = result.message
      expect(message.type).toBe('state/get')
    }
    const server: DecodeResult<ServerMessage> = decodeServerMessage(frame('nope'))
    if (!server.ok) expect(server.error.code).toBe('BAD_REQUEST')
  })
})
