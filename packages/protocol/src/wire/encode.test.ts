import { describe, it, expect } from 'vitest'
import {
  actionResultJson,
  encodeActionResult,
  encodeClientMessage,
  encodeResponses,
  encodeServerMessage,
  encodeStateChanged,
  joinPatches,
} from './encode.js'
import { FRAME_DELIMITER } from './frame.js'
import { ClientMessageType, PROTOCOL_VERSION, ServerMessageType, type ClientMessage, type ServerMessage } from '../messages.js'
import { decodeClientMessage } from './decode-client.js'
import { decodeServerMessage } from './decode-server.js'
import { ErrorCode } from '../errors.js'

const body = (frame: string): string => {
  expect(frame.endsWith(FRAME_DELIMITER)).toBe(true)
  expect(frame.slice(0, -1)).not.toContain(FRAME_DELIMITER)
  return frame.slice(0, -1)
}

describe('encodeClientMessage', () => {
  it.each<ClientMessage>([
    { type: ClientMessageType.Hello, data: { id: 1, protocol: PROTOCOL_VERSION, clientId: 'c', instanceId: 'i', replica: true } },
    { type: ClientMessageType.StateGet, data: { id: 2 } },
    { type: ClientMessageType.ActionCall, data: { id: 3, action: 'add', input: { text: 'a\fb' } } },
    { type: ClientMessageType.ActionCall, data: { id: 4, action: 'reset' } },
    { type: ClientMessageType.ServerInfo, data: { id: 5 } },
  ])('encodes $type so the server decodes it unchanged', (message) => {
    const decoded = decodeClientMessage(body(encodeClientMessage(message)))
    expect(decoded).toEqual({ ok: true, message })
  })

  it('encodes the seed request as node-ipc does', () => {
    expect(JSON.parse(body(encodeClientMessage({ type: ClientMessageType.SeedGetSharedData, data: undefined })))).toEqual({
      type: 'getSharedData',
    })
  })
})

describe('encodeServerMessage', () => {
  it.each<ServerMessage>([
    { type: ServerMessageType.Response, data: { id: 1, result: { protocol: 1, epoch: 'e', version: 0, state: { n: 0 } } } },
    { type: ServerMessageType.Response, data: { id: 2, error: { code: 'TIMEOUT', message: 'm', data: { a: 1 } } } },
    { type: ServerMessageType.StateChanged, data: { epoch: 'e', version: 3, patches: [{ op: 'remove', path: ['a', 0] }] } },
    { type: ServerMessageType.ServerClosing, data: { reason: 'bye' } },
    { type: ServerMessageType.ProtocolError, data: { error: { code: 'BAD_REQUEST', message: 'm' }, fatal: true } },
  ])('encodes $type so the client decodes it unchanged', (message) => {
    expect(decodeServerMessage(body(encodeServerMessage(message)))).toEqual({ ok: true, message })
  })
})

describe('the pre-encoded fast paths', () => {
  it.each([
    ['a result', 7, 3, '{"text":"a\\fb"}', { id: 7, result: { value: { text: 'a\fb' }, version: 3 } }],
    ['no result', 8, 4, undefined, { id: 8, result: { version: 4 } }],
  ])('encodeActionResult with %s is the response encodeServerMessage writes', (_label, id, version, valueJson, data) => {
    const fast = encodeActionResult(id, version, valueJson)
    expect(fast).toBe(encodeServerMessage({ type: ServerMessageType.Response, data }))
    expect(decodeServerMessage(body(fast))).toEqual({ ok: true, message: { type: ServerMessageType.Response, data } })
  })

  it('encodeStateChanged is the change encodeServerMessage writes, whatever the epoch holds', () => {
    const patches = [{ op: 'replace' as const, path: ['n'], value: '\f"' }]
    const epoch = 'odd "epoch"\f'
    const fast = encodeStateChanged(epoch, 9, JSON.stringify(patches))
    const data = { epoch, version: 9, patches }
    expect(fast).toBe(encodeServerMessage({ type: ServerMessageType.StateChanged, data }))
    expect(decodeServerMessage(body(fast))).toEqual({ ok: true, message: { type: ServerMessageType.StateChanged, data } })
  })

  it.each([
    ['an action and a client', 'add "x"\f', 'client "c"\f'],
    ['only an action', 'add', undefined],
    ['only a client', undefined, 'c'],
  ])('encodeStateChanged with %s is the change encodeServerMessage writes', (_label, action, clientId) => {
    const patches = [{ op: 'remove' as const, path: ['n', 0] }]
    const fast = encodeStateChanged('e', 4, JSON.stringify(patches), { action, clientId })
    const data = {
      epoch: 'e',
      version: 4,
      patches,
      ...(action === undefined ? {} : { action }),
      ...(clientId === undefined ? {} : { clientId }),
    }
    expect(fast).toBe(encodeServerMessage({ type: ServerMessageType.StateChanged, data }))
    expect(decodeServerMessage(body(fast))).toEqual({ ok: true, message: { type: ServerMessageType.StateChanged, data } })
  })

  it("leaves out the clientId '' of a change no client called, so that clients decode it", () => {
    const fast = encodeStateChanged('e', 4, '[]', { action: 'expire', clientId: '' })
    const data = { epoch: 'e', version: 4, patches: [], action: 'expire' }
    expect(decodeServerMessage(body(fast))).toEqual({ ok: true, message: { type: ServerMessageType.StateChanged, data } })
  })

  it('a batched change with its range and answers is the change encodeServerMessage writes', () => {
    const first = [{ op: 'replace' as const, path: ['n'], value: 1 }]
    const second = [{ op: 'add' as const, path: ['list', 0], value: 'x\f"' }]
    const answers = [
      { id: 7, result: { value: 1, version: 3 } },
      { id: 8, error: { code: ErrorCode.ACTION_FAILED, message: 'no' } },
    ]
    const patchesJson = joinPatches([JSON.stringify(first), '[]', JSON.stringify(second)])
    const answersJson = [actionResultJson(7, 3, '1'), JSON.stringify(answers[1])]
    const fast = encodeStateChanged('e', 5, patchesJson, { from: 3, action: 'add', answersJson })
    const data = { epoch: 'e', version: 5, from: 3, patches: [...first, ...second], action: 'add', answers }
    expect(fast).toBe(encodeServerMessage({ type: ServerMessageType.StateChanged, data }))
    expect(decodeServerMessage(body(fast))).toEqual({ ok: true, message: { type: ServerMessageType.StateChanged, data } })
  })

  it('joins patches of changes that made none, and keeps one list as it is', () => {
    expect(joinPatches(['[]', '[]'])).toBe('[]')
    expect(joinPatches(['[1]'])).toBe('[1]')
    expect(JSON.parse(joinPatches(['[]', '[1,2]', '[]', '[3]']))).toEqual([1, 2, 3])
  })

  it('encodeResponses writes one answer as a response and several as a responses frame', () => {
    const one = actionResultJson(1, 2, undefined)
    expect(encodeResponses([one])).toBe(
      encodeServerMessage({ type: ServerMessageType.Response, data: { id: 1, result: { version: 2 } } }),
    )
    const many = encodeResponses([one, actionResultJson(2, 3, '"v"')])
    const data = [
      { id: 1, result: { version: 2 } },
      { id: 2, result: { value: 'v', version: 3 } },
    ]
    expect(many).toBe(encodeServerMessage({ type: ServerMessageType.Responses, data }))
    expect(decodeServerMessage(body(many))).toEqual({ ok: true, message: { type: ServerMessageType.Responses, data } })
  })

  it.each([
    ['an empty list of answers', '{"type":"responses","data":[]}'],
    ['an answer without an id', '{"type":"responses","data":[{"id":1,"result":1},{"result":2}]}'],
    ['an answer with a malformed error', '{"type":"responses","data":[{"id":1,"error":{"code":5}}]}'],
    [
      'a change whose range ends before it starts',
      '{"type":"state/changed","data":{"epoch":"e","version":2,"from":3,"patches":[]}}',
    ],
    [
      'a change with answers that are not a list',
      '{"type":"state/changed","data":{"epoch":"e","version":2,"patches":[],"answers":{}}}',
    ],
    [
      'a change with a malformed answer',
      '{"type":"state/changed","data":{"epoch":"e","version":2,"patches":[],"answers":[{"id":-1}]}}',
    ],
  ])('refuses %s', (_label, frame) => {
    const decoded = decodeServerMessage(frame)
    expect(decoded.ok).toBe(false)
  })

  it('takes an answer named __proto__ as data, not as a prototype', () => {
    const decoded = decodeServerMessage('{"type":"responses","data":[{"id":1,"result":{"__proto__":{"polluted":true}}}]}')
    expect(decoded.ok).toBe(true)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })
})
