import { isDeepStrictEqual } from 'node:util'
import { deserialize } from 'node:v8'
import { connect, type IpcStateClient } from '@ipc-state/client'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type JsonValuesStore, type Op, type ValueSpec, applyOp, build, jsonValuesInitialState } from '../src/stores/json-values.js'
import { ask, fixture } from '../src/processes/processes.js'
import { type ServerHandle, startServer } from '../src/processes/server-fixture.js'

type Client = IpcStateClient<JsonValuesStore>

/** What the server holds, exactly (V8's serialisation keeps what JSON would hide). */
async function serverState(server: ServerHandle): Promise<{ state: unknown; version: number }> {
  const event = await ask(server.process, 'state')
  return { state: deserialize(Buffer.from(event.v8 as string, 'base64')), version: event.version as number }
}

/** Resolves once `client`'s replica shows `version`: a signal from the replica, not a poll. */
function reached(client: Client, version: number): Promise<void> {
  if (client.version >= version) return Promise.resolve()
  return new Promise((resolve) => {
    const stop = client.subscribe((_state, info) => {
      if (info.version < version) return
      stop()
      resolve()
    })
  })
}

/**
 * Node's strict deep equality: own keys, prototypes, -0 against 0, holes against undefined. (Vitest's
 * toStrictEqual also compares a `constructor` property, which random keys may hold.)
 */
function expectSame(actual: unknown, expected: unknown, what: string): void {
  if (isDeepStrictEqual(actual, expected)) return
  expect.fail(`${what} differ:\n${JSON.stringify(actual)}\n${JSON.stringify(expected)}`)
}

const json = (value: unknown): unknown => JSON.parse(JSON.stringify(value))
/** An action's result as the caller gets it: `undefined` where JSON has nothing to carry. */
const jsonResult = (value: unknown): unknown => {
  const text = JSON.stringify(value)
  return text === undefined ? undefined : JSON.parse(text)
}

// Values: what JSON carries, what it changes (NaN, -0, dates, maps, holes, undefined, functions) and
// what it cannot hold at all (BigInt), nested in objects and arrays.
const key = fc.constantFrom('a', 'b', 'c')
const path = fc.array(key, { minLength: 1, maxLength: 3 })
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('\f', '\u2028', '\ud800', '😀', '\u0000', '__proto__', 'constructor'),
)
const leaf: fc.Arbitrary<ValueSpec> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.oneof(text, fc.double(), fc.integer(), fc.boolean(), fc.constant(null)).map((v) => ({ t: 'json' as const, v })),
  },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      ...(['undefined', 'nan', 'infinity', '-infinity', '-0', 'function', 'symbol'] as const).map((t) => ({ t })),
    ),
  },
  { weight: 1, arbitrary: fc.constant({ t: 'bigint' as const }) },
  { weight: 1, arbitrary: fc.integer({ min: -8.64e15, max: 8.64e15 }).map((ms) => ({ t: 'date' as const, ms })) },
)
const { value } = fc.letrec<{ value: ValueSpec }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(fc.tuple(fc.oneof(key, text), tie('value')), { maxLength: 4 }).map((entries) => ({ t: 'object' as const, entries })),
    fc.array(tie('value'), { maxLength: 4 }).map((items) => ({ t: 'array' as const, items })),
    fc.array(fc.tuple(key, tie('value')), { maxLength: 3 }).map((entries) => ({ t: 'map' as const, entries })),
    fc.array(tie('value'), { maxLength: 3 }).map((items) => ({ t: 'set' as const, items })),
    fc
      .tuple(fc.integer({ min: 0, max: 6 }), fc.array(fc.tuple(fc.nat(5), tie('value')), { maxLength: 3 }))
      .map(([length, items]) => ({ t: 'sparse' as const, length: length + 1, items })),
  ),
}))
const values = fc.array(value, { maxLength: 3 })
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('set' as const), path, value }) },
  fc.record({ op: fc.constant('delete' as const), path }),
  { weight: 2, arbitrary: fc.record({ op: fc.constant('push' as const), path, values }) },
  fc.record({ op: fc.constant('shift' as const), path }),
  fc.record({
    op: fc.constant('splice' as const),
    path,
    start: fc.integer({ min: -3, max: 5 }),
    deleteCount: fc.nat(3),
    values,
  }),
  fc.record({ op: fc.constant('setIndex' as const), path, index: fc.nat(7), value }),
  fc.record({ op: fc.constant('truncate' as const), path, length: fc.nat(5) }),
)

describe('one state everywhere: what an action writes is what every replica holds', () => {
  let server: ServerHandle
  let clients: Client[]

  beforeAll(async () => {
    server = await startServer({ script: fixture('servers/json-values-server.ts') })
    const address = { ...server.address, timeout: 5_000 }
    clients = await Promise.all([
      connect<JsonValuesStore>(address),
      connect<JsonValuesStore>(address),
      connect<JsonValuesStore>(address),
    ])
  })

  afterAll(async () => {
    await Promise.all((clients ?? []).map((client) => client.close()))
    await server?.[Symbol.asyncDispose]()
  })

  it('an action that sets a property to undefined settles within its timeout, and every replica drops the key', async () => {
    const [caller, other] = clients as [Client, Client]
    await caller.actions.reset()
    const before = (await serverState(server)).version
    await expect(caller.call('clear', undefined, { timeout: 10_000 })).resolves.toBeUndefined()
    expect(caller.version).toBe(before + 1)
    expect(caller.state).toStrictEqual({ n: 0 })
    await reached(other, before + 1)
    expect(other.state).toStrictEqual({ n: 0 })
    expect(await serverState(server)).toStrictEqual({ state: { n: 0 }, version: before + 1 })
  })

  it('runs actions named toString, constructor and valueOf', async () => {
    const [caller] = clients as [Client]
    await caller.actions.reset()
    for (const [name, input, named] of [
      ['toString', undefined, 'toString'],
      ['constructor', 2, 'constructor 2'],
      ['valueOf', undefined, 'valueOf'],
    ] as const) {
      await caller.call(name, input as never, { timeout: 5_000 })
      expect(caller.state.named).toBe(named)
    }
  })

  it('random sequences of actions leave the server equal to the JSON model and every replica equal to the server', async () => {
    let sequences = 0
    let steps = 0
    let failedCalls = 0
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 10 }), async (ops) => {
        sequences += 1
        await clients[0]!.actions.reset()
        let model = json(jsonValuesInitialState) as Record<string, unknown>
        for (const [i, step] of ops.entries()) {
          steps += 1
          const caller = clients[i % clients.length]!
          // What the state must become: the step on a plain copy, then as JSON carries it. A step
          // that writes something JSON cannot hold must fail and change nothing.
          // The step itself travels as JSON (a NaN in it arrives as null).
          const sent = json(step) as Op
          const draft = structuredClone(model)
          let expected: Record<string, unknown> | undefined
          let expectedResult: unknown
          try {
            applyOp(draft, sent)
            expected = json(draft) as Record<string, unknown>
            expectedResult = 'value' in sent ? jsonResult(build(sent.value)) : undefined
          } catch {
            expected = undefined
          }
          const outcome = await caller.call('apply', step, { timeout: 5_000 }).then(
            (result) => ({ ok: true as const, result }),
            (error: { code?: string }) => ({ ok: false as const, code: error.code }),
          )
          if (expected === undefined) {
            failedCalls += 1
            expect(outcome).toEqual({ ok: false, code: 'ACTION_FAILED' })
          } else {
            expectSame(outcome, { ok: true, result: expectedResult }, 'the result and the model')
            model = expected
          }
          const held = await serverState(server)
          expectSame(held.state, model, "the server's state and the JSON model")
          for (const client of clients) {
            await reached(client, held.version)
            expect(client.version).toBe(held.version)
            expectSame(client.state, held.state, "a replica and the server's state")
          }
        }
      }),
      { numRuns: 200, endOnFailure: true },
    )
    console.log(`json state: ${sequences} sequences, ${steps} steps, ${failedCalls} calls refused as not JSON`)
    expect(sequences).toBeGreaterThanOrEqual(200)
  })
})
