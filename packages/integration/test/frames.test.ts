// Malformed and oddly delivered frames, sent raw over the socket to a real server process. Every
// one must get its error (or a closed connection), and a well-behaved client must not notice.
import { connect, type IpcStateClient } from '@ipc-state/client'
import { type ClientMessage, FRAME_DELIMITER, encodeClientMessage } from '@ipc-state/protocol/wire'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { crashLines } from '../src/processes/processes.js'
import { RawClient, type ReceivedFrame } from '../src/peers/raw-client.js'
import { type ServerHandle, startServer } from '../src/processes/server-fixture.js'
import type { TestStore } from '../src/stores/test-store.js'

let server: ServerHandle
let good: IpcStateClient<TestStore>
/** What the server's state must be: only legitimate calls change it. */
const expected = { counter: 0, version: 0, messages: [] as string[] }

beforeAll(async () => {
  server = await startServer()
  good = await connect<TestStore>(server.address)
})

afterAll(async () => {
  await good?.close()
  await server?.[Symbol.asyncDispose]()
})

/** One call of the well-behaved client, which must succeed and see exactly the expected counter. */
async function goodCall(): Promise<void> {
  expected.counter += 1
  expected.version += 1
  expect(await good.actions.increment(1)).toBe(expected.counter)
  expect(good.state.counter).toBe(expected.counter)
}

/** The server's own view must match what the legitimate calls made. */
async function expectStateUnchanged(): Promise<void> {
  const view = await server.view()
  expect(view.version).toBe(expected.version)
  expect(view.state.counter).toBe(expected.counter)
  expect(view.state.messages.map((m) => m.text)).toEqual(expected.messages)
}

let nextProbe = 100_000
/** The connection still answers, and no stray frame arrived before the answer. */
async function expectStillServing(raw: RawClient, greeted = true): Promise<void> {
  const before = raw.frames.length
  const id = nextProbe++
  await raw.send({ type: 'state/get', data: { id } })
  const answer = await raw.response(id)
  expect(raw.frames.length).toBe(before + 1)
  if (greeted) expect(answer.data.result.version).toBe(expected.version)
  // Before hello, the server answers but tells the client to say hello first.
  else expect(answer.data.error.code).toBe('BAD_REQUEST')
}

type Outcome =
  /** A `protocol/error` BAD_REQUEST (the frame had no usable id); the connection stays open. */
  | { protocolError: 'BAD_REQUEST' }
  /** A `response` carrying an error for the frame's own id. */
  | { response: number; code: string }

/**
 * Writes `payload`, malformed on purpose, followed by the delimiter on a connection that said hello (or not), and checks
 * the one answer it gets. A server may instead close the connection after a fatal protocol/error.
 */
async function sendBad(payload: string | Buffer, outcome: Outcome, options: { hello?: boolean } = {}): Promise<RawClient> {
  const raw = options.hello === false ? await RawClient.connect(server.path) : await RawClient.hello(server.path)
  const after = raw.frames.length
  await raw.write(typeof payload === 'string' ? payload + FRAME_DELIMITER : Buffer.concat([payload, Buffer.from(FRAME_DELIMITER)]))
  const answer: ReceivedFrame = await raw.waitFor(
    (f) => raw.frames.indexOf(f) >= after && (f.type === 'protocol/error' || f.type === 'response'),
    'an answer to the bad frame',
  )
  if (answer.type === 'protocol/error' && answer.data.fatal === true) {
    // Closing the connection is an acceptable answer too, as long as it is announced and done.
    expect(answer.data.error.code).toBe('protocolError' in outcome ? outcome.protocolError : outcome.code)
    await raw.expectClosed()
    return raw
  }
  if ('protocolError' in outcome) {
    expect(answer).toMatchObject({ type: 'protocol/error', data: { fatal: false, error: { code: outcome.protocolError } } })
  } else {
    expect(answer).toMatchObject({ type: 'response', data: { id: outcome.response, error: { code: outcome.code } } })
    expect(answer.data.result).toBeUndefined()
  }
  expect(typeof answer.data.error.message).toBe('string')
  // Exactly one answer for one bad frame.
  expect(raw.frames.length).toBe(after + 1)
  await expectStillServing(raw, options.hello !== false)
  return raw
}

const bad = { protocolError: 'BAD_REQUEST' } as const
const nested = (depth: number, open: string, close: string, inner = '0') => open.repeat(depth) + inner + close.repeat(depth)

describe('malformed frames', () => {
  // [name, payload, outcome]; each case gets its own raw connection.
  const cases: [string, string | Buffer, Outcome][] = [
    ['invalid JSON', '{"type":"action/call","data":{"id":1,', bad],
    ['invalid JSON (bare word)', 'hello', bad],
    ['a number', '123', bad],
    ['a string', '"str"', bad],
    ['an array', '[]', bad],
    ['null', 'null', bad],
    ['true', 'true', bad],
    ['an empty object', '{}', bad],
    ['data without type', '{"data":{}}', bad],
    ['data with an id but no type', '{"data":{"id":5}}', bad],
    ['a numeric type', '{"type":42}', bad],
    ['a null type', '{"type":null,"data":{"id":6}}', bad],
    ['an object type', '{"type":{"toString":"hello"},"data":{"id":6}}', bad],
    ['an array type nested deeply', `{"type":${nested(10_000, '[', ']', '"hello"')}}`, bad],
    ['invalid UTF-8 bytes', Buffer.from([0x7b, 0x22, 0x74, 0xff, 0xfe, 0xc3, 0x22, 0x7d]), bad],
    ['a raw NUL byte in a string', '{"type":"hello\u0000","data":{"id":7,"protocol":1,"clientId":"x","replica":false}}', bad],
    [
      'an escaped NUL in the type',
      '{"type":"hello\\u0000","data":{"id":7,"protocol":1,"clientId":"x","replica":false}}',
      { response: 7, code: 'BAD_REQUEST' },
    ],
    ['id 1e400 (Infinity)', '{"type":"action/call","data":{"id":1e400,"action":"increment","input":1}}', bad],
    ['a negative id', '{"type":"action/call","data":{"id":-1,"action":"increment","input":1}}', bad],
    ['a fractional id', '{"type":"action/call","data":{"id":1.5,"action":"increment","input":1}}', bad],
    ['a string id', '{"type":"action/call","data":{"id":"8","action":"increment","input":1}}', bad],
    ['an unsafe integer id', '{"type":"action/call","data":{"id":9007199254740993,"action":"increment"}}', bad],
    [
      'input 1e400 (Infinity)',
      '{"type":"action/call","data":{"id":12,"action":"increment","input":1e400}}',
      { response: 12, code: 'BAD_ARGUMENTS' },
    ],
    [
      'input -1e400',
      '{"type":"action/call","data":{"id":13,"action":"increment","input":-1e400}}',
      { response: 13, code: 'BAD_ARGUMENTS' },
    ],
    ['a numeric action', '{"type":"action/call","data":{"id":14,"action":42}}', { response: 14, code: 'BAD_REQUEST' }],
    [
      'an action name of 10k characters',
      `{"type":"action/call","data":{"id":15,"action":"${'a'.repeat(10_000)}"}}`,
      { response: 15, code: 'BAD_REQUEST' },
    ],
    ['an unknown action', '{"type":"action/call","data":{"id":16,"action":"nope"}}', { response: 16, code: 'UNKNOWN_ACTION' }],
    ['action __proto__', '{"type":"action/call","data":{"id":17,"action":"__proto__"}}', { response: 17, code: 'UNKNOWN_ACTION' }],
    [
      'action constructor',
      '{"type":"action/call","data":{"id":18,"action":"constructor"}}',
      { response: 18, code: 'UNKNOWN_ACTION' },
    ],
    ['action toString', '{"type":"action/call","data":{"id":19,"action":"toString"}}', { response: 19, code: 'UNKNOWN_ACTION' }],
    [
      'action hasOwnProperty',
      '{"type":"action/call","data":{"id":20,"action":"hasOwnProperty"}}',
      { response: 20, code: 'UNKNOWN_ACTION' },
    ],
    [
      'an input of the wrong type',
      '{"type":"action/call","data":{"id":21,"action":"increment","input":"1"}}',
      { response: 21, code: 'BAD_ARGUMENTS' },
    ],
    [
      'an action that throws',
      '{"type":"action/call","data":{"id":22,"action":"explode","input":"boom"}}',
      { response: 22, code: 'ACTION_FAILED' },
    ],
    [
      '100k nested arrays (balanced) as input',
      `{"type":"action/call","data":{"id":23,"action":"increment","input":${nested(100_000, '[', ']')}}}`,
      { response: 23, code: 'BAD_REQUEST' },
    ],
    [
      '100k nested objects as input',
      `{"type":"action/call","data":{"id":24,"action":"increment","input":${nested(100_000, '{"a":', '}')}}}`,
      { response: 24, code: 'BAD_REQUEST' },
    ],
    ['100k unclosed [', `{"type":"action/call","data":{"id":25,"action":"increment","input":${'['.repeat(100_000)}`, bad],
    ['100k [ as the whole frame', '['.repeat(100_000), bad],
    ['action/call without an id', '{"type":"action/call","data":{"action":"increment","input":1}}', bad],
    ['state/get without data', '{"type":"state/get"}', bad],
    [
      'a second hello',
      '{"type":"hello","data":{"id":26,"protocol":1,"clientId":"again","replica":true}}',
      { response: 26, code: 'BAD_REQUEST' },
    ],
  ]
  // node-ipc dispatches `type` to a plain object of handlers and to its own lifecycle events:
  // each of these must be just an unknown type here, with and without a request id.
  const hostileTypes = [
    '__proto__',
    'constructor',
    'toString',
    'hasOwnProperty',
    'valueOf',
    'prototype',
    'start',
    'error',
    'connect',
    'close',
    'data',
    'socket.disconnected',
    'disconnect',
    'destroy',
    'response',
    'state/changed',
    'protocol/error',
    'server/closing',
    'sharedData',
    'Hello',
    'ACTION/CALL',
    '',
    'unknown/type',
    'x'.repeat(5_000),
  ]
  for (const [index, type] of hostileTypes.entries()) {
    const id = 1_000 + index
    cases.push([
      `type ${JSON.stringify(type.slice(0, 30))} with an id`,
      JSON.stringify({ type, data: { id } }),
      { response: id, code: 'BAD_REQUEST' },
    ])
    cases.push([`type ${JSON.stringify(type.slice(0, 30))} without data`, JSON.stringify({ type }), bad])
  }

  it.each(cases)('%s', async (_name, payload, outcome) => {
    await goodCall()
    await using _raw = await sendBad(payload, outcome)
    await goodCall()
    await expectStateUnchanged()
  })

  it('hello without clientId is refused and the connection stays un-greeted', async () => {
    await goodCall()
    await using raw = await sendBad(
      '{"type":"hello","data":{"id":1,"protocol":1,"replica":false}}',
      { response: 1, code: 'BAD_REQUEST' },
      { hello: false },
    )
    await raw.send({ type: 'action/call', data: { id: 2, action: 'increment', input: 1 } })
    expect((await raw.response(2)).data.error.code).toBe('BAD_REQUEST')
    // A proper hello still works afterwards.
    await raw.send({ type: 'hello', data: { id: 3, protocol: 1, clientId: 'late-hello', replica: false } })
    expect((await raw.response(3)).data.result.version).toBe(expected.version)
    await goodCall()
    await expectStateUnchanged()
  })

  it('hello with a numeric clientId, or without protocol, is refused', async () => {
    await using _numericClientId = await sendBad(
      '{"type":"hello","data":{"id":1,"protocol":1,"clientId":7,"replica":false}}',
      { response: 1, code: 'BAD_REQUEST' },
      { hello: false },
    )
    await using _noProtocol = await sendBad(
      '{"type":"hello","data":{"id":1,"clientId":"c","replica":false}}',
      { response: 1, code: 'BAD_REQUEST' },
      { hello: false },
    )
    await goodCall()
    await expectStateUnchanged()
  })

  it('hello with another protocol version gets PROTOCOL_MISMATCH and is closed', async () => {
    await using raw = await RawClient.connect(server.path)
    await raw.send({ type: 'hello', data: { id: 1, protocol: 2, clientId: 'future', replica: false } })
    const response = await raw.response(1)
    expect(response.data.error.code).toBe('PROTOCOL_MISMATCH')
    await raw.expectClosed()
    await goodCall()
    await expectStateUnchanged()
  })

  it('action/call before hello gets an error response and changes nothing', async () => {
    await goodCall()
    await using raw = await RawClient.connect(server.path)
    await raw.send({ type: 'action/call', data: { id: 5, action: 'increment', input: 1000 } })
    const response = await raw.response(5)
    expect(response.data.error.code).toBe('BAD_REQUEST')
    await raw.send({ type: 'state/get', data: { id: 6 } })
    expect((await raw.response(6)).data.error.code).toBe('BAD_REQUEST')
    await goodCall()
    await expectStateUnchanged()
  })

  it('an own "__proto__" key in data is refused, and smuggles no input', async () => {
    await using raw = await RawClient.hello(server.path)
    // Written by hand: an object literal's "__proto__" sets the prototype instead of an own key.
    await raw.write(`{"type":"action/call","data":{"id":3,"action":"increment","__proto__":{"input":500}}}${FRAME_DELIMITER}`)
    expect((await raw.response(3)).data.error.code).toBe('BAD_REQUEST')
    await expectStateUnchanged()
    await expectStillServing(raw)
  })

  it('empty frames are skipped without an answer', async () => {
    await using raw = await RawClient.hello(server.path)
    await raw.write(FRAME_DELIMITER.repeat(3))
    await expectStillServing(raw)
  })

  it("another client's request ids neither reach nor affect that client", async () => {
    await using victim = await RawClient.hello(server.path, { id: 1, clientId: 'victim' })
    await victim.send({ type: 'action/call', data: { id: 2, action: 'increment', input: 1 } })
    expected.counter += 1
    expected.version += 1
    expect((await victim.response(2)).data.result).toEqual({ value: expected.counter, version: expected.version })
    const victimFrames = victim.frames.length

    await using attacker = await RawClient.hello(server.path, { id: 1, clientId: 'attacker' })
    // The victim's ids, as requests and as forged server messages.
    await attacker.send({ type: 'action/call', data: { id: 2, action: 'peek' } })
    await attacker.send({ type: 'state/get', data: { id: 3 } })
    await attacker.sendFrame('response', { id: 3, result: { value: -1, version: 999 } })
    await attacker.sendFrame('state/changed', {
      id: 4,
      epoch: server.epoch,
      version: 999,
      patches: [{ op: 'replace', path: ['counter'], value: -1 }],
    })
    await attacker.send({ type: 'hello', data: { id: 2, protocol: 1, clientId: 'victim', replica: true } })
    expect((await attacker.response(2)).data.result).toEqual({ value: expected.counter, version: expected.version })
    expect((await attacker.response(3)).data.result.version).toBe(expected.version)
    await attacker.waitFor((f) => f.type === 'response' && f.data.id === 4 && f.data.error?.code === 'BAD_REQUEST')
    // Five requests, five answers: the forged response's id (3) was answered too.
    await vi.waitFor(() => expect(attacker.frames.length).toBe(1 + 5))
    expect(attacker.frames.filter((f) => f.type === 'response' && f.data.id === 3)).toHaveLength(2)

    // Nothing reached the victim in between, and its own next request is answered normally.
    expect(victim.frames.length).toBe(victimFrames)
    await victim.send({ type: 'action/call', data: { id: 3, action: 'increment', input: 1 } })
    expected.counter += 1
    expected.version += 1
    expect((await victim.response(3)).data.result).toEqual({ value: expected.counter, version: expected.version })
    expect(victim.frames.length).toBe(victimFrames + 1)
    await goodCall()
    await expectStateUnchanged()
  })

  it('a client that takes over another clientId cannot re-apply its calls', async () => {
    await using first = await RawClient.hello(server.path, { id: 1, clientId: 'taken' })
    await first.send({ type: 'action/call', data: { id: 2, action: 'increment', input: 1 } })
    expected.counter += 1
    expected.version += 1
    const original = await first.response(2)
    await using second = await RawClient.hello(server.path, { id: 1, clientId: 'taken' })
    await second.send({ type: 'action/call', data: { id: 2, action: 'increment', input: 1 } })
    // The same (clientId, id) is a resend: answered from the record, not applied twice.
    expect((await second.response(2)).data).toEqual(original.data)
    await expectStateUnchanged()
    await expectStillServing(first)
  })
})

describe('frame boundaries', () => {
  it('a frame split byte by byte across many writes, with multi-byte characters cut in half', async () => {
    await using raw = await RawClient.connect(server.path)
    const text = 'çğışöü €😀 日本'
    const bytes = Buffer.from(
      encodeClientMessage({ type: 'hello', data: { id: 1, protocol: 1, clientId: 'bytewise', replica: false } }) +
        encodeClientMessage({ type: 'action/call', data: { id: 2, action: 'addMessage', input: text } }),
    )
    expect(bytes.length).toBeLessThan(400)
    for (let i = 0; i < bytes.length; i++) await raw.write(bytes.subarray(i, i + 1))
    expect((await raw.response(1)).data.error).toBeUndefined()
    const response = await raw.response(2)
    expected.version += 1
    expected.messages.push(text)
    expect(response.data.result).toEqual({ value: expected.messages.length, version: expected.version })
    await expectStateUnchanged()
    await goodCall()
  })

  it('several frames in one write are all answered, in order', async () => {
    await using raw = await RawClient.connect(server.path)
    const frames: ClientMessage[] = [
      { type: 'hello', data: { id: 1, protocol: 1, clientId: 'batch', replica: false } },
      { type: 'action/call', data: { id: 2, action: 'increment', input: 2 } },
      { type: 'action/call', data: { id: 3, action: 'increment', input: 3 } },
      { type: 'action/call', data: { id: 4, action: 'nope' } },
      { type: 'action/call', data: { id: 5, action: 'peek' } },
      { type: 'state/get', data: { id: 6 } },
    ]
    await raw.write(frames.map(encodeClientMessage).join(''))
    await raw.response(6)
    expect(raw.frames.map((f) => f.data.id)).toEqual([1, 2, 3, 4, 5, 6])
    expect(raw.frames[1]!.data.result).toEqual({ value: expected.counter + 2, version: expected.version + 1 })
    expect(raw.frames[2]!.data.result).toEqual({ value: expected.counter + 5, version: expected.version + 2 })
    expect(raw.frames[3]!.data.error.code).toBe('UNKNOWN_ACTION')
    expect(raw.frames[4]!.data.result).toEqual({ value: expected.counter + 5, version: expected.version + 2 })
    expected.counter += 5
    expected.version += 2
    expect(raw.frames[5]!.data.result.state.counter).toBe(expected.counter)
    await expectStateUnchanged()
    await goodCall()
  })

  it('a complete frame followed by a partial one is answered before the rest arrives', async () => {
    await using raw = await RawClient.hello(server.path)
    const complete = encodeClientMessage({ type: 'action/call', data: { id: 2, action: 'increment', input: 4 } })
    const partial = encodeClientMessage({ type: 'action/call', data: { id: 3, action: 'increment', input: 6 } })
    const cut = Math.floor(partial.length / 2)
    await raw.write(complete + partial.slice(0, cut))
    // The first is answered while the second is still incomplete: nothing else is sent meanwhile.
    expected.counter += 4
    expected.version += 1
    expect((await raw.response(2)).data.result).toEqual({ value: expected.counter, version: expected.version })
    expect(raw.frames.some((f) => f.data?.id === 3)).toBe(false)
    await raw.write(partial.slice(cut))
    expected.counter += 6
    expected.version += 1
    expect((await raw.response(3)).data.result).toEqual({ value: expected.counter, version: expected.version })
    await expectStateUnchanged()
  })

  it('a complete frame is not lost when the client disconnects right after a partial tail', async () => {
    const raw = await RawClient.hello(server.path)
    const complete = (id: number) => encodeClientMessage({ type: 'action/call', data: { id, action: 'increment', input: 7 } })
    const partial = encodeClientMessage({ type: 'action/call', data: { id: 3, action: 'increment', input: 1000 } }).slice(0, 30)
    raw.socket.end(complete(2) + partial)
    await raw.closed
    expected.counter += 7
    expected.version += 1
    await vi.waitFor(async () => expect((await server.view()).version).toBe(expected.version), { timeout: 10_000, interval: 20 })
    await expectStateUnchanged()
    // The same again with an abrupt close right after the write.
    const abrupt = await RawClient.hello(server.path)
    await abrupt.write(complete(9) + partial)
    abrupt.socket.destroy()
    await abrupt.closed
    expected.counter += 7
    expected.version += 1
    await vi.waitFor(async () => expect((await server.view()).version).toBe(expected.version), { timeout: 10_000, interval: 20 })
    await expectStateUnchanged()
    await goodCall()
  })

  it('the server is still alive and printed no crash', async () => {
    await goodCall()
    await expectStateUnchanged()
    const { child } = server.process
    expect(child.exitCode).toBeNull()
    expect(child.signalCode).toBeNull()
    expect(crashLines(server.process)).toEqual([])
    expect(server.process.output).toEqual([])
    expect(good.status).toBe('connected')
  })
})
