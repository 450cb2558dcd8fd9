import { describe, it, expect, expectTypeOf } from 'vitest'
import {
  PROTOCOL_VERSION,
  ClientMessageType,
  ServerMessageType,
  type ClientMessage,
  type Patch,
  type ResponseMessage,
  type ServerMessage,
} from './messages.js'
import { decodeClientMessage } from './wire/decode-client.js'
import { decodeServerMessage } from './wire/decode-server.js'
import { encodeFrame } from './wire/frame.js'

describe('wire constants', () => {
  it('speaks protocol version 1', () => {
    expect(PROTOCOL_VERSION).toBe(1)
  })

  it('keeps the client message types stable', () => {
    expect(ClientMessageType).toEqual({
      Hello: 'hello',
      StateGet: 'state/get',
      ActionCall: 'action/call',
      ServerInfo: 'server/info',
      Bye: 'bye',
      ChangesList: 'changes/list',
      SeedGetSharedData: 'getSharedData',
    })
  })

  it('keeps the server message types stable', () => {
    expect(ServerMessageType).toEqual({
      Response: 'response',
      Responses: 'responses',
      StateChanged: 'state/changed',
      ServerClosing: 'server/closing',
      ProtocolError: 'protocol/error',
      SeedSharedData: 'sharedData',
    })
  })

  it('never reuses a client type as a server type', () => {
    const client = new Set<string>(Object.values(ClientMessageType))
    for (const type of Object.values(ServerMessageType)) expect(client.has(type), type).toBe(false)
  })

  it('uses none of node-ipc’s own event names', () => {
    const reserved = ['connect', 'disconnect', 'destroy', 'error', 'data', 'socket.disconnected', 'start']
    for (const type of [...Object.values(ClientMessageType), ...Object.values(ServerMessageType)]) {
      expect(reserved, type).not.toContain(type)
    }
  })
})

describe('every message type survives encodeFrame and decoding', () => {
  const clientMessages: ClientMessage[] = [
    { type: 'hello', data: { id: 0, protocol: PROTOCOL_VERSION, clientId: 'c', replica: true } },
    { type: 'state/get', data: { id: 1 } },
    { type: 'action/call', data: { id: 2, action: 'increment', input: 3 } },
    { type: 'action/call', data: { id: 3, action: 'reset' } },
    { type: 'getSharedData', data: {} },
  ]

  it.each(clientMessages.map((m) => [m.type, m] as const))('client %s', (_type, message) => {
    const result = decodeClientMessage(encodeFrame(message.type, message.data).slice(0, -1))
    expect(result).toStrictEqual({ ok: true, message })
  })

  const serverMessages: ServerMessage[] = [
    { type: 'response', data: { id: 1, result: { value: 2, version: 3 } } },
    { type: 'response', data: { id: 2, error: { code: 'TIMEOUT', message: 'late' } } },
    { type: 'state/changed', data: { epoch: 'e', version: 4, patches: [{ op: 'replace', path: ['n'], value: 1 }] } },
    { type: 'server/closing', data: { reason: 'shutdown' } },
    { type: 'protocol/error', data: { error: { code: 'BAD_REQUEST', message: 'bad' }, fatal: true } },
    { type: 'sharedData', data: { counter: 1 } },
  ]

  it.each(serverMessages.map((m) => [m.type, m] as const))('server %s', (_type, message) => {
    const result = decodeServerMessage(encodeFrame(message.type, message.data).slice(0, -1))
    expect(result).toStrictEqual({ ok: true, message })
  })
})

describe('message types', () => {
  it('discriminates client messages by type', () => {
    expectTypeOf<Extract<ClientMessage, { type: 'action/call' }>['data']>().toEqualTypeOf<{
      id: number
      action: string
      input?: unknown
    }>()
    expectTypeOf<ClientMessage['type']>().toEqualTypeOf<
      'hello' | 'state/get' | 'action/call' | 'server/info' | 'bye' | 'changes/list' | 'getSharedData'
    >()
    expectTypeOf<ServerMessage['type']>().toEqualTypeOf<
      'response' | 'responses' | 'state/changed' | 'server/closing' | 'protocol/error' | 'sharedData'
    >()
  })

  it('allows a response with a result or an error, not both', () => {
    expectTypeOf<{ id: 1; result: 2 }>().toExtend<ResponseMessage>()
    expectTypeOf<{ id: 1; error: { code: 'TIMEOUT'; message: 'm' } }>().toExtend<ResponseMessage>()
    expectTypeOf<{ id: 1; result: 2; error: { code: 'TIMEOUT'; message: 'm' } }>().not.toExtend<ResponseMessage>()
  })

  it('requires a value on add and replace but not on remove', () => {
    expectTypeOf<{ op: 'remove'; path: ['a'] }>().toExtend<Patch>()
    expectTypeOf<{ op: 'add'; path: ['a'] }>().not.toExtend<Patch>()
    expectTypeOf<{ op: 'move'; path: ['a']; value: 1 }>().not.toExtend<Patch>()
  })
})
