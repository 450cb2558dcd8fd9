// The relay's stream entries, as another program may write them to Redis, and the writer's checks
// of what they carry: a relayed call's frame and a reply to a relayed call.
import type { RelayedCall, RelayedReply } from '@ipc-state/server'
import { decodeRelayedFrame, isReply } from '@ipc-state/server/testing'
import { encodeCalls, encodeReplies, readCalls, readReplies } from '@ipc-state/redis/testing'
import {
  ClientMessageType,
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_FRAME_BYTES,
  decodeServerMessage,
  encodeResponse,
  FRAME_DELIMITER,
} from '@ipc-state/protocol/wire'
import fc from 'fast-check'
import { describe, expect } from 'vitest'
import { params, property } from './budget.js'
import { assertPlainJson, assertPrototypesUntouched } from './checks.js'
import { applyMutations, mutation, type Mutation } from './mutate.js'
import { clientMessage, json, key, response } from './wire-inputs.js'

/** Names as a server writes them, and the ones a reader must refuse: empty, one past the bound. */
const name = fc.oneof(
  { weight: 4, arbitrary: fc.string({ minLength: 1, maxLength: 12 }) },
  key,
  fc.constantFrom('', 'x'.repeat(1_024), 'x'.repeat(1_025), 'é'.repeat(1_024)),
)
/** Decimal texts that read as a whole number, and ones that almost do. */
const numberText = fc.oneof(
  fc.nat().map(String),
  fc.constantFrom('0', '01', '-1', '-0', '1.5', '1e3', '0x1', ' 1', '1 ', '', 'NaN', 'Infinity'),
  fc.constantFrom('999999999999999', '1000000000000000', '9007199254740993', '9'.repeat(400)),
)
/** Frames as a server relays them (a client's message as JSON text), and ones nested past any bound. */
const frame = fc.oneof(
  { weight: 6, arbitrary: clientMessage.map((message) => JSON.stringify({ type: message.type, data: message.data })) },
  fc
    .nat({ max: 5_000 })
    .map((depth) => `{"type":"action/call","data":{"id":1,"action":"a","input":${'['.repeat(depth)}${']'.repeat(depth)}}}`),
  fc.string({ maxLength: 40 }),
)
const call: fc.Arbitrary<RelayedCall> = fc.record({
  from: name,
  instanceId: name,
  since: fc.oneof(fc.nat(), fc.constant(999_999_999_999_999)),
  clientId: name,
  frame,
})
const reply: fc.Arbitrary<RelayedReply> = fc.record({
  instanceId: name,
  id: fc.oneof(fc.nat(), fc.constant(999_999_999_999_999)),
  responseJson: fc.oneof(
    response.map((data) => JSON.stringify(data)),
    fc.string({ maxLength: 20 }),
  ),
})
const maxBytes = fc.constantFrom(16, 256, 4_096, DEFAULT_MAX_FRAME_BYTES)

/** One change to an entry's fields: a field's bytes mutated, one replaced, left out, added or repeated. */
type FieldChange =
  | { kind: 'bytes'; at: number; mutations: Mutation[] }
  | { kind: 'set'; at: number; value: string }
  | { kind: 'drop'; at: number }
  | { kind: 'insert'; at: number; value: string }
  | { kind: 'repeat'; at: number; length: number }
const fieldValue = fc.oneof(fc.constantFrom('f', 'i', 's', 'c', 'm', 'n', 'r', 'w'), numberText, name, frame)
const fieldChange: fc.Arbitrary<FieldChange> = fc.oneof(
  fc.record({ kind: fc.constant('bytes' as const), at: fc.nat(), mutations: fc.array(mutation, { minLength: 1, maxLength: 3 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fieldValue }),
  fc.record({ kind: fc.constant('drop' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), value: fieldValue }),
  fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 12 }) }),
)

/** `fields` with `changes` applied in order, as Redis would hand them back (UTF-8 text). */
function changeFields(fields: readonly string[], changes: readonly FieldChange[]): string[] {
  const changed = [...fields]
  for (const change of changes) {
    const at = change.at % (changed.length + 1)
    if (change.kind === 'bytes' && at < changed.length)
      changed[at] = Buffer.from(applyMutations(Buffer.from(changed[at]!), change.mutations, [])).toString('utf8')
    else if (change.kind === 'set' && at < changed.length) changed[at] = change.value
    else if (change.kind === 'drop') changed.splice(at, 1)
    else if (change.kind === 'insert') changed.splice(at, 0, change.value)
    else if (change.kind === 'repeat') changed.splice(at, 0, ...changed.slice(at, at + change.length))
  }
  return changed
}

/** Entries as a server writes them, mutated ones, and fields at random. */
const entries = (valid: fc.Arbitrary<string[]>) =>
  fc.oneof(
    valid,
    fc
      .tuple(valid, fc.array(fieldChange, { minLength: 1, maxLength: 4 }))
      .map(([fields, changes]) => changeFields(fields, changes)),
    fc.array(fieldValue, { maxLength: 30 }),
  )
const callEntry = entries(
  fc.tuple(name, fc.array(call, { minLength: 1, maxLength: 4 })).map(([from, calls]) => encodeCalls(from, calls)),
)
const replyEntry = entries(fc.array(reply, { minLength: 1, maxLength: 4 }).map(encodeReplies))

const bounds = { maxDepth: DEFAULT_MAX_DEPTH, maxFrameBytes: DEFAULT_MAX_FRAME_BYTES }

/** A name as a reader takes it: 1 to 1 024 characters. */
const isName = (text: string) => text.length > 0 && text.length <= 1_024
const isWhole = (value: number) => Number.isSafeInteger(value) && value >= 0

describe('redis relay entries', () => {
  property(
    'calls stream: an entry is read back as the calls that re-encode to its fields, or refused with a reason; never a throw',
    () => {
      fc.assert(
        fc.property(callEntry, maxBytes, (fields, max) => {
          const calls = readCalls(fields, max)
          if (typeof calls === 'string') {
            expect(calls.length).toBeGreaterThan(0)
            return
          }
          expect(calls.length).toBeGreaterThan(0)
          expect(encodeCalls(calls[0]!.from, calls)).toEqual(fields)
          for (const taken of calls) {
            expect(isName(taken.from) && isName(taken.instanceId) && isName(taken.clientId) && isWhole(taken.since)).toBe(true)
            expect(Buffer.byteLength(taken.frame)).toBeGreaterThan(0)
            expect(Buffer.byteLength(taken.frame)).toBeLessThanOrEqual(max)
          }
        }),
        params(2_000),
      )
    },
  )

  property('calls stream: every call a server relays comes back as it was, within the bound its frame fits', () => {
    fc.assert(
      fc.property(name.filter(isName), fc.array(call, { minLength: 1, maxLength: 4 }), (from, calls) => {
        const valid = calls.every((one) => isName(one.instanceId) && isName(one.clientId) && one.frame.length > 0)
        const read = readCalls(encodeCalls(from, calls), DEFAULT_MAX_FRAME_BYTES)
        if (valid) expect(read).toEqual(calls.map((one) => ({ ...one, from })))
        else expect(typeof read).toBe('string')
      }),
      params(1_000),
    )
  })

  property(
    'replies stream: an entry is read back as the replies that re-encode to its fields, or refused with a reason; never a throw',
    () => {
      fc.assert(
        fc.property(replyEntry, maxBytes, (fields, max) => {
          const replies = readReplies(fields, max)
          if (typeof replies === 'string') {
            expect(replies.length).toBeGreaterThan(0)
            return
          }
          expect(replies.length).toBeGreaterThan(0)
          expect(encodeReplies(replies)).toEqual(fields)
          for (const taken of replies) {
            expect(isName(taken.instanceId) && isWhole(taken.id)).toBe(true)
            expect(Buffer.byteLength(taken.responseJson)).toBeGreaterThan(0)
            expect(Buffer.byteLength(taken.responseJson)).toBeLessThanOrEqual(max)
          }
        }),
        params(2_000),
      )
    },
  )

  property(
    'a relayed frame, as the writer decodes it: a call in plain JSON that decodes again the same, or a reason; never a throw',
    () => {
      const frames = fc.oneof(
        frame,
        fc
          .tuple(frame, fc.array(mutation, { minLength: 1, maxLength: 4 }))
          .map(([text, mutations]) => Buffer.from(applyMutations(Buffer.from(text), mutations, [])).toString('utf8')),
      )
      fc.assert(
        fc.property(frames, (text) => {
          const request = decodeRelayedFrame(text, bounds)
          assertPrototypesUntouched()
          if (typeof request === 'string') {
            expect(request.length).toBeGreaterThan(0)
            return
          }
          assertPlainJson(request, Buffer.byteLength(text))
          expect(typeof request.action).toBe('string')
          const again = decodeRelayedFrame(JSON.stringify({ type: ClientMessageType.ActionCall, data: request }), bounds)
          expect(again).toEqual(request)
        }),
        params(2_000),
      )
    },
  )

  property('a reply the writer’s check takes is one the caller’s client reads as the answer to its call', () => {
    const responses = fc.oneof(
      response.map((data) => JSON.stringify(data)),
      json.map((value) => JSON.stringify(value) ?? ''),
      fc
        .tuple(response, fc.array(mutation, { minLength: 1, maxLength: 3 }))
        .map(([data, mutations]) => Buffer.from(applyMutations(Buffer.from(JSON.stringify(data)), mutations, [])).toString('utf8')),
    )
    fc.assert(
      fc.property(responses, fc.oneof(fc.nat({ max: 1_000 }), fc.constant(Number.MAX_SAFE_INTEGER)), (responseJson, guess) => {
        // The id it names, when it names one, or another.
        let named: unknown
        try {
          named = (JSON.parse(responseJson) as { id?: unknown })?.id
        } catch {
          named = undefined
        }
        const id = typeof named === 'number' && guess % 2 === 0 ? named : guess
        const taken = isReply({ instanceId: 'a', id, responseJson })
        assertPrototypesUntouched()
        if (!taken) return
        const decoded = decodeServerMessage(encodeResponse(responseJson).slice(0, -FRAME_DELIMITER.length))
        expect(decoded.ok, responseJson).toBe(true)
        if (!decoded.ok || decoded.message.type !== 'response') throw new Error(`not a response: ${responseJson}`)
        expect(decoded.message.data.id).toBe(id)
      }),
      params(2_000),
    )
  })
})
