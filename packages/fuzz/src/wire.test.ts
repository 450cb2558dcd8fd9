// The frame decoders and the patch applier under random and mutated input.
import { applyPatches, ErrorCode, IpcStateError, type Patch } from '@ipc-state/protocol'
import {
  decodeBinaryBody,
  decodeClientMessage,
  decodeServerMessage,
  encodeBinaryFrame,
  isPatch,
  WireDecoder,
  type DecodeResult,
} from '@ipc-state/protocol/wire'
import fc from 'fast-check'
import { describe, expect } from 'vitest'
import { params, property } from './budget.js'
import { assertIpcStateError, assertPlainJson, assertPrototypesUntouched } from './checks.js'
import { mutated, mutation, applyMutations } from './mutate.js'
import {
  binaryBody,
  clientMessage,
  extendedValue,
  extensionBody,
  json,
  patch,
  serverMessage,
  sharedValue,
  streamFrame,
  textFrame,
} from './wire-inputs.js'

const decodeText = (bytes: Uint8Array, start: number, end: number) =>
  Buffer.from(bytes.buffer, bytes.byteOffset).toString('utf8', start, end)

// Donors for splices: valid frames of every kind, drawn once from the fixed seed.
const donors: Uint8Array[] = [
  ...fc.sample(clientMessage, { numRuns: 8, seed: 1 }).flatMap((m) => [textFrame(m, false), binaryBody(m) ?? new Uint8Array()]),
  ...fc.sample(serverMessage, { numRuns: 8, seed: 2 }).flatMap((m) => [textFrame(m, true), binaryBody(m) ?? new Uint8Array()]),
]

const definedBody = <M>(messages: fc.Arbitrary<M>) =>
  messages.map(binaryBody).filter((body): body is Uint8Array => body !== undefined)

/** Frames a client could send: valid ones, mutated ones of both kinds, and noise. */
const clientFrames: fc.Arbitrary<{ text: boolean; bytes: Uint8Array }> = fc.oneof(
  mutated(
    clientMessage.map((m) => textFrame(m, false)),
    donors,
  ).map((bytes) => ({ text: true, bytes })),
  mutated(definedBody(clientMessage), donors).map((bytes) => ({ text: false, bytes })),
  fc.uint8Array({ minLength: 1, maxLength: 256 }).map((bytes) => ({ text: false, bytes })),
  fc.string({ maxLength: 128 }).map((text) => ({ text: true, bytes: Buffer.from(text) })),
)

const serverFrames: fc.Arbitrary<{ text: boolean; bytes: Uint8Array }> = fc.oneof(
  mutated(
    serverMessage.map((m) => textFrame(m, true)),
    donors,
  ).map((bytes) => ({ text: true, bytes })),
  mutated(definedBody(serverMessage), donors).map((bytes) => ({ text: false, bytes })),
  fc.uint8Array({ minLength: 1, maxLength: 256 }).map((bytes) => ({ text: false, bytes })),
)

/**
 * What every decoded frame must be: an answer, never a throw; `ok` with plain JSON of no more
 * nodes than the frame has bytes (each JSON node takes at least one byte of either encoding, and
 * the decoder adds a few of its own), or `BAD_REQUEST`; and no prototype written.
 */
function checkDecoded(result: DecodeResult<unknown>, bytes: number): void {
  if (result.ok) assertPlainJson(result.message, bytes + 8)
  else {
    assertIpcStateError(result.error, [ErrorCode.BAD_REQUEST])
    if (result.id !== undefined) expect(Number.isSafeInteger(result.id) && result.id >= 0).toBe(true)
  }
  assertPrototypesUntouched()
}

function frameOf({ text, bytes }: { text: boolean; bytes: Uint8Array }): string | Uint8Array {
  return text ? Buffer.from(bytes).toString('utf8') : bytes
}

/** Runs a stream through a decoder in the given chunks: the frames, and the error code that ended it. */
function split(chunks: Uint8Array[], maxFrameBytes: number): { frames: string[]; error?: string } {
  const decoder = new WireDecoder({ maxFrameBytes, decodeText })
  const frames: string[] = []
  try {
    for (const chunk of chunks) {
      for (const frame of decoder.push(chunk))
        frames.push(typeof frame === 'string' ? `t:${frame}` : `b:${Buffer.from(frame).toString('hex')}`)
      expect(decoder.pendingBytes).toBeLessThanOrEqual(maxFrameBytes)
    }
  } catch (error) {
    assertIpcStateError(error, [ErrorCode.FRAME_TOO_LARGE, ErrorCode.BAD_REQUEST])
    expect(decoder.pendingBytes).toBe(0)
    return { frames, error: error.code }
  }
  return { frames }
}

/** A patch that sets an array's length: apart, since growing an array that way is a finding of its own. */
const isLengthReplace = (p: Patch): boolean => p.op === 'replace' && p.path.at(-1) === 'length'

describe('wire', () => {
  property(
    'WireDecoder: a stream splits into the same frames whatever its chunks, and fails only with FRAME_TOO_LARGE or BAD_REQUEST',
    () => {
      fc.assert(
        fc.property(
          fc.array(streamFrame, { minLength: 1, maxLength: 5 }),
          fc.array(mutation, { maxLength: 4 }),
          fc.array(fc.nat(), { maxLength: 8 }),
          fc.integer({ min: 6, max: 4096 }),
          (frames, mutations, cuts, maxFrameBytes) => {
            const stream = applyMutations(Buffer.concat(frames), mutations, donors)
            const at = [...new Set(cuts.map((cut) => cut % (stream.length + 1)))].sort((a, b) => a - b)
            const chunks = [0, ...at].map((start, i) => stream.subarray(start, at[i] ?? stream.length)).filter((c) => c.length > 0)
            const whole = split([stream], maxFrameBytes)
            const chunked = split(chunks, maxFrameBytes)
            expect(chunked.error).toBe(whole.error)
            if (whole.error === undefined) expect(chunked.frames).toEqual(whole.frames)
          },
        ),
        params(400),
      )
    },
  )

  property(
    'decodeClientMessage: any frame is a plain JSON message no larger than its bytes, or BAD_REQUEST; it never throws',
    () => {
      fc.assert(
        fc.property(clientFrames, (frame) => {
          checkDecoded(decodeClientMessage(frameOf(frame)), frame.bytes.length)
        }),
        params(1500),
      )
    },
  )

  property(
    'decodeServerMessage: any frame is a plain JSON message no larger than its bytes, or BAD_REQUEST; it never throws',
    () => {
      fc.assert(
        fc.property(serverFrames, (frame) => {
          checkDecoded(decodeServerMessage(frameOf(frame)), frame.bytes.length)
        }),
        params(1500),
      )
    },
  )

  property('decodeBinaryBody: any body is plain JSON no larger than its bytes, or an Error; it never throws anything else', () => {
    fc.assert(
      fc.property(
        fc.oneof(mutated(definedBody(fc.oneof(clientMessage, serverMessage)), donors), fc.uint8Array({ maxLength: 256 })),
        (body) => {
          let value: unknown
          try {
            value = decodeBinaryBody(body)
          } catch (error) {
            expect(error).toBeInstanceOf(Error)
            expect((error as Error).constructor).toBe(Error)
            assertPrototypesUntouched()
            return
          }
          assertPlainJson(value, body.length + 1)
          assertPrototypesUntouched()
        },
      ),
      params(1500),
    )
  })

  property(
    'binary frames: a body of msgpackr references (a DAG) is refused or decodes to a plain JSON tree no larger than the body',
    () => {
      fc.assert(
        fc.property(extensionBody(sharedValue), ({ body, server }) => {
          checkDecoded(server ? decodeServerMessage(body) : decodeClientMessage(body), body.length)
        }),
        params(100),
      )
    },
  )

  property(
    'binary frames: msgpackr extensions (dates, sets, typed arrays, regular expressions, errors, cycles) are refused',
    () => {
      fc.assert(
        fc.property(extensionBody(extendedValue), ({ body, server }) => {
          const result = server ? decodeServerMessage(body) : decodeClientMessage(body)
          checkDecoded(result, body.length)
          expect(result.ok).toBe(false)
        }),
        params(100),
      )
    },
  )

  property('binary round trip: encodeBinaryFrame, WireDecoder and decodeBinaryBody give back what JSON would', () => {
    fc.assert(
      fc.property(fc.oneof(clientMessage, serverMessage), fc.nat({ max: 64 }), (message, chunkBytes) => {
        const frame = encodeBinaryFrame(message, 0)
        // Only what MessagePack carries exactly as JSON goes binary (no own __proto__, say).
        if (frame === undefined) return
        const decoder = new WireDecoder({ decodeText })
        const frames = []
        for (let at = 0; at < frame.length; at += chunkBytes + 1)
          frames.push(...decoder.push(frame.subarray(at, at + chunkBytes + 1)))
        expect(frames).toHaveLength(1)
        expect(JSON.stringify(decodeBinaryBody(frames[0] as Uint8Array))).toBe(JSON.stringify(message))
      }),
      params(500),
    )
  })

  property(
    'text round trip: a valid message decodes to itself, less the fields a decoder leaves out, and decodes the same again',
    () => {
      fc.assert(
        fc.property(
          fc.oneof(
            clientMessage.map((m) => ({ m, server: false })),
            serverMessage.map((m) => ({ m, server: true })),
          ),
          ({ m, server }) => {
            const decode = (frame: Uint8Array) => {
              const result = server
                ? decodeServerMessage(Buffer.from(frame).toString('utf8'))
                : decodeClientMessage(Buffer.from(frame).toString('utf8'))
              if (!result.ok) throw result.error
              return result.message as { type: string; data: Record<string, unknown> }
            }
            // A client's message is refused whole when a key in it could reach a prototype.
            if (!server && holdsPrototypeKey(m)) {
              expect(() => decode(textFrame(m, server))).toThrow(expect.objectContaining({ code: ErrorCode.BAD_REQUEST }))
              return
            }
            const once = decode(textFrame(m, server))
            expect(once.type).toBe(m.type)
            const sent = JSON.parse(JSON.stringify(m.data)) as Record<string, unknown>
            // A `binary: false` hello is a hello without it: the decoder keeps `binary` only when true.
            for (const [name, value] of Object.entries(once.data)) {
              if (value !== undefined) expect(JSON.stringify(value)).toBe(JSON.stringify(sent[name]))
            }
            expect(decode(textFrame(once as never, server))).toEqual(once)
            assertPrototypesUntouched()
          },
        ),
        params(500),
      )
    },
  )

  property(
    'applyPatches: any patches either apply or fail with BAD_REQUEST, leave the base as it was and write no prototype',
    () => {
      fc.assert(
        fc.property(
          json,
          fc.array(
            patch.filter((p) => !isLengthReplace(p)),
            { maxLength: 6 },
          ),
          (base, patches) => {
            const before = JSON.stringify(base)
            let next: unknown
            try {
              next = applyPatches(base, patches)
            } catch (error) {
              assertIpcStateError(error, [ErrorCode.BAD_REQUEST])
              next = base
            }
            expect(JSON.stringify(base)).toBe(before)
            assertPlainJson(next, 100_000)
            assertPrototypesUntouched()
          },
        ),
        params(1500),
      )
    },
  )

  property("applyPatches: an array's length replaced by any number is refused with BAD_REQUEST or leaves no hole", () => {
    const length = fc.oneof(fc.nat({ max: 8 }), fc.constantFrom(-1, 1.5, 2 ** 31, 2 ** 32 - 1, 2 ** 32, Number.MAX_SAFE_INTEGER))
    fc.assert(
      fc.property(fc.array(json, { maxLength: 4 }), length, (base, value) => {
        let next: unknown
        try {
          next = applyPatches({ list: base }, [{ op: 'replace', path: ['list', 'length'], value }])
        } catch (error) {
          assertIpcStateError(error, [ErrorCode.BAD_REQUEST])
          return
        }
        assertPlainJson(next, 100_000)
      }),
      params(200),
    )
  })

  property('applyPatches: patches decoded from a mutated state/changed frame apply or fail with BAD_REQUEST', () => {
    fc.assert(
      fc.property(json, mutated(definedBody(serverMessage), donors), (base, body) => {
        const result = decodeServerMessage(body)
        if (!result.ok || result.message.type !== 'state/changed') return
        expect(result.message.data.patches.every(isPatch)).toBe(true)
        try {
          assertPlainJson(applyPatches(base, result.message.data.patches), 100_000)
        } catch (error) {
          if (!(error instanceof IpcStateError)) throw error
          assertIpcStateError(error, [ErrorCode.BAD_REQUEST])
        }
        assertPrototypesUntouched()
      }),
      params(500),
    )
  })
})

/** Whether `value` holds a `__proto__` key, or a `constructor` key whose value has a `prototype` key, at any depth. */
function holdsPrototypeKey(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false
  for (const [name, child] of Object.entries(value)) {
    if (name === '__proto__') return true
    if (name === 'constructor' && typeof child === 'object' && child !== null && Object.hasOwn(child, 'prototype')) return true
    if (holdsPrototypeKey(child)) return true
  }
  return false
}
