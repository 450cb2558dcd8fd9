// Valid messages and frames of both kinds, made by the real encoders: the seeds the wire properties mutate.
import {
  ClientMessageType,
  encodeBinaryFrame,
  encodeClientMessage,
  encodeServerMessage,
  PROTOCOL_VERSION,
  ServerMessageType,
  type ClientMessage,
  type ServerMessage,
} from '@ipc-state/protocol/wire'
import { ErrorCode, type Patch } from '@ipc-state/protocol'
import fc from 'fast-check'
import { Packr } from 'msgpackr'

/** Keys that reach prototypes or that the code reads by name, mixed with ordinary ones. */
export const key: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 8 }) },
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'valueOf',
    'hasOwnProperty',
    'input',
    'id',
    'length',
    '0',
    '-',
  ),
)

/** JSON values with hostile keys, small enough to decode thousands of times. */
export const json: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string({ maxLength: 12 }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(key, tie('value'), { maxKeys: 5 }),
  ),
})).value

const id = fc.oneof(fc.nat({ max: 1000 }), fc.constant(Number.MAX_SAFE_INTEGER))
const name = fc.string({ minLength: 1, maxLength: 16 })
const path = fc.array(fc.oneof(key, fc.nat({ max: 6 })), { maxLength: 4 })

export const patch: fc.Arbitrary<Patch> = fc.oneof(
  fc.record({ op: fc.constantFrom('add' as const, 'replace' as const), path, value: json }),
  fc.record({ op: fc.constant('remove' as const), path }),
)

export const clientMessage: fc.Arbitrary<ClientMessage> = fc.oneof(
  fc.record({
    type: fc.constant(ClientMessageType.Hello),
    data: fc.record(
      {
        id,
        protocol: fc.constant(PROTOCOL_VERSION),
        clientId: name,
        replica: fc.boolean(),
        instanceId: name,
        binary: fc.boolean(),
        batch: fc.boolean(),
      },
      { requiredKeys: ['id', 'protocol', 'clientId', 'replica'] },
    ),
  }),
  fc.record({ type: fc.constant(ClientMessageType.StateGet), data: fc.record({ id }) }),
  fc.record({ type: fc.constant(ClientMessageType.ServerInfo), data: fc.record({ id }) }),
  fc.record({
    type: fc.constant(ClientMessageType.ActionCall),
    data: fc.record({ id, action: name, input: json }, { requiredKeys: ['id', 'action'] }),
  }),
)

const errorCode = fc.constantFrom(...Object.values(ErrorCode))

/** The data of one answer: a result or an error. */
export const response = fc.oneof(
  fc.record({ id, result: fc.record({ version: fc.nat(), value: json }, { requiredKeys: ['version'] }) }),
  fc.record({ id, result: fc.record({ epoch: name, version: fc.nat(), state: json }) }),
  fc.record({
    id,
    error: fc.record({ code: errorCode, message: fc.string({ maxLength: 20 }), data: json }, { requiredKeys: ['code', 'message'] }),
  }),
)

export const serverMessage: fc.Arbitrary<ServerMessage> = fc.oneof(
  fc.record({ type: fc.constant(ServerMessageType.Response), data: response }),
  // A turn's answers, and a batched change with the answers it shows (see the protocol's batched frames).
  fc.record({ type: fc.constant(ServerMessageType.Responses), data: fc.array(response, { minLength: 1, maxLength: 4 }) }),
  fc.record({
    type: fc.constant(ServerMessageType.StateChanged),
    data: fc
      .record(
        {
          epoch: name,
          version: fc.nat(),
          from: fc.nat(),
          patches: fc.array(patch, { maxLength: 4 }),
          action: name,
          clientId: name,
          answers: fc.array(response, { minLength: 1, maxLength: 3 }),
        },
        { requiredKeys: ['epoch', 'version', 'patches'] },
      )
      // A valid batch starts at or before its last version.
      .map((data) => (data.from === undefined || data.from <= data.version ? data : { ...data, from: data.version })),
  }),
  fc.record({ type: fc.constant(ServerMessageType.ServerClosing), data: fc.record({ reason: fc.string({ maxLength: 20 }) }) }),
  fc.record({
    type: fc.constant(ServerMessageType.ProtocolError),
    data: fc.record({ error: fc.record({ code: errorCode, message: fc.string({ maxLength: 20 }) }), fatal: fc.boolean() }),
  }),
) as fc.Arbitrary<ServerMessage>

/** A text frame's bytes, without the delimiter: what the decoders take. */
export const textFrame = (message: ClientMessage | ServerMessage, server: boolean): Uint8Array => {
  const text = server ? encodeServerMessage(message as ServerMessage) : encodeClientMessage(message as ClientMessage)
  return Buffer.from(text.slice(0, -1))
}

/** A binary frame's body, or undefined when the message is sent as text (it holds an own `__proto__`, say). */
export const binaryBody = (message: unknown): Uint8Array | undefined => encodeBinaryFrame(message, 0)?.subarray(5)

/** Every kind of frame a client sends, as bytes of a stream (a text frame with its delimiter). */
export const streamFrame: fc.Arbitrary<Uint8Array> = fc.oneof(
  clientMessage.map((message) => Buffer.from(encodeClientMessage(message))),
  clientMessage.chain((message) => {
    const frame = encodeBinaryFrame(message, 0)
    return frame === undefined ? fc.constant(Buffer.from(encodeClientMessage(message))) : fc.constant(frame)
  }),
)

// The structured-clone encoder msgpackr also has: references, records, dates, maps, sets, typed
// arrays, errors and regular expressions. Nothing of ours writes them; a hostile peer can.
const clonePackr = new Packr({ structuredClone: true, useRecords: true, moreTypes: true })

/** A value each of whose `depth` levels points twice at the level below: 2^depth nodes as a tree. */
export function referenceDag(depth: number, leaf: unknown = {}): unknown {
  let level: unknown = leaf
  for (let i = 0; i < depth; i++) level = { a: level, b: level }
  return level
}

/** Values msgpackr packs as references: a DAG whose tree has 2^depth nodes. */
export const sharedValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.integer({ min: 2, max: 16 }).map((depth) => referenceDag(depth)),
  fc.integer({ min: 2, max: 16 }).map((depth) => referenceDag(depth, [1, 2, 3])),
  fc.integer({ min: 2, max: 16 }).map((depth) => referenceDag(depth, 'x'.repeat(64))),
)

/** Values msgpackr packs with its other extensions. */
export const extendedValue: fc.Arbitrary<unknown> = fc.constantFrom<unknown>(
  new Date(0),
  new Set([1, 2]),
  new Uint8Array([1, 2, 3]),
  new Float64Array([1.5]),
  /x/g,
  new Error('boom'),
  (() => {
    const cycle: Record<string, unknown> = {}
    cycle.self = cycle
    return cycle
  })(),
)

/** `value` packed with msgpackr's extensions, wrapped in a message a client or a server could send. */
export const extensionBody = (values: fc.Arbitrary<unknown>): fc.Arbitrary<{ body: Uint8Array; server: boolean }> =>
  fc.tuple(values, fc.boolean()).map(([value, server]) => {
    const message = server
      ? { type: ServerMessageType.Response, data: { id: 1, result: { epoch: 'e', version: 1, state: value } } }
      : { type: ClientMessageType.ActionCall, data: { id: 1, action: 'set', input: value } }
    return { body: clonePackr.pack(message), server }
  })
