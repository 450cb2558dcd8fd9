// Real servers on a real Redis whose log and snapshot hold foreign, rewritten or missing entries.
import { ErrorCode, IpcStateError, RETRYABLE_ERROR_CODES } from '@ipc-state/protocol'
import { redisStorage } from '@ipc-state/redis'
import fc from 'fast-check'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect } from 'vitest'
import { params, property } from './budget.js'
import { assertIpcStateError, assertPlainJson, assertPrototypesUntouched, within } from './checks.js'
import { editJson, jsonEdit, oddValue, type JsonEdit } from './folder-files.js'
import { connectTo, fuzzCall, startFuzzServer, tempFolder, writeSome } from './fuzz-store.js'
import { applyMutations, mutation, type Mutation } from './mutate.js'
import { expectStable, type Outcome, SETTLE_MS, startOn, writeThrough } from './stored-outcome.js'
import { startRedisServer, type RedisServer } from './redis-server.js'
import { patch } from './wire-inputs.js'

const PARTS = ['meta', 'log', 'snapshot'] as const

let redisServer: RedisServer
let redis: Redis
let sockets: AsyncDisposable & { path: string }
let stores = 0

beforeAll(async () => {
  redisServer = await startRedisServer()
  redis = new Redis({ path: redisServer.path, lazyConnect: true })
  await redis.connect()
  sockets = await tempFolder('ipcs-fuzz-redis-sockets-')
  // Snapshots every 10 versions: the store has a snapshot past version 0 and a log after it.
  await writeSome(redisStorage({ url: redisServer.path, key: 'base', snapshotEvery: 10 }), sockets.path, 12)
  expect(await redis.xlen('base:log')).toBeGreaterThan(3)
})

afterAll(async () => {
  await redis?.quit()
  await sockets?.[Symbol.asyncDispose]()
  await redisServer?.[Symbol.asyncDispose]()
})

type StreamEntry = [id: string, fields: string[]]

/** A copy of the store the real server wrote, under a key of its own. */
async function copyStore(): Promise<string> {
  const key = `run${stores++}`
  for (const part of PARTS) await redis.call('COPY', `base:${part}`, `${key}:${part}`)
  return key
}

/** Presence marks (field `m`), well and badly formed. */
const presenceMarks = [
  '{"joined":{"instanceId":"a","clientId":"b"}}',
  '{"joined":{"instanceId":"__proto__","clientId":"b"}}',
  '{"joined":{"instanceId":"a","clientId":"b","server":"s"}}',
  '{"joined":{}}',
  '{"left":"a"}',
  '{"left":"__proto__"}',
  '{"left":1}',
  '{"joined":{"instanceId":"a","clientId":"b"},"left":"a"}',
]
const fieldName = fc.oneof(fc.constantFrom('t', 'i', 'n', 'p', 'v', 'h', 'a', 'k', 'm'), fc.string({ maxLength: 3 }))
const fieldValue = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom(
    'c',
    'i',
    '0',
    '1',
    '-1',
    '1e9',
    'NaN',
    '',
    '[]',
    '{}',
    'null',
    '[{"op":"replace","path":["counter"],"value":"x"}]',
    ...presenceMarks,
  ),
  fc.array(patch, { maxLength: 3 }).map((patches) => JSON.stringify(patches)),
  oddValue.map((value) => JSON.stringify(value) ?? ''),
)
const fields = fc.array(fc.tuple(fieldName, fieldValue), { minLength: 1, maxLength: 8 }).map((pairs) => pairs.flat())
/** Where an appended entry goes: an id Redis makes (a foreign XADD), the next version, past a gap, or after an instance record. */
const place = fc.constantFrom('*', 'next', 'gap', 'seq')

type LogChange =
  | { kind: 'append'; place: string; fields: string[] }
  | { kind: 'field'; entry: number; name: string; value: string }
  | { kind: 'bytes'; entry: number; field: number; mutations: Mutation[] }
  | { kind: 'patches'; entry: number; edits: JsonEdit[] }
  | { kind: 'drop'; entry: number }

const logChange: fc.Arbitrary<LogChange> = fc.oneof(
  fc.record({ kind: fc.constant('append' as const), place, fields }),
  fc.record({ kind: fc.constant('field' as const), entry: fc.nat(), name: fieldName, value: fieldValue }),
  fc.record({
    kind: fc.constant('bytes' as const),
    entry: fc.nat(),
    field: fc.nat(),
    mutations: fc.array(mutation, { minLength: 1, maxLength: 3 }),
  }),
  fc.record({ kind: fc.constant('patches' as const), entry: fc.nat(), edits: fc.array(jsonEdit, { minLength: 1, maxLength: 2 }) }),
  fc.record({ kind: fc.constant('drop' as const), entry: fc.nat() }),
)

function idAfter(last: string, where: string): string {
  const [version, seq] = last.split('-').map(Number) as [number, number]
  if (where === 'next') return `${version + 1}-0`
  if (where === 'gap') return `${version + 2}-0`
  if (where === 'seq') return `${version}-${seq + 1}`
  return '*'
}

/** Applies `change` to the log of `key`: appended to, or written again with one entry changed or left out. */
async function changeLog(key: string, change: LogChange): Promise<void> {
  const log = `${key}:log`
  const entries = (await redis.xrange(log, '-', '+')) as StreamEntry[]
  if (change.kind === 'append') {
    await redis.xadd(log, idAfter(entries.at(-1)?.[0] ?? '0-0', change.place), ...change.fields)
    return
  }
  const at = change.entry % entries.length
  const [id, entryFields] = entries[at]!
  const edited = [...entryFields]
  if (change.kind === 'drop') entries.splice(at, 1)
  else if (change.kind === 'field') {
    const index = edited.indexOf(change.name)
    if (index % 2 === 0) edited[index + 1] = change.value
    else edited.push(change.name, change.value)
  } else if (change.kind === 'bytes') {
    const index = 2 * (change.field % (edited.length / 2)) + 1
    edited[index] = Buffer.from(applyMutations(Buffer.from(edited[index]!), change.mutations, [])).toString('utf8')
  } else {
    const index = edited.indexOf('p')
    if (index % 2 === 0) edited[index + 1] = JSON.stringify(editJson(JSON.parse(edited[index + 1]!), change.edits)) ?? ''
  }
  if (change.kind !== 'drop') entries[at] = [id, edited]
  await redis.del(log)
  for (const [entryId, values] of entries) await redis.xadd(log, entryId, ...values)
}

/** Starts a server on the store at `key` and closes it: what it served, or why it refused (see `startOn` of stored-outcome.ts). */
const startOnKey = (key: string): Promise<Outcome> =>
  startOn(redisStorage({ url: redisServer.path, key, connectTimeout: 5_000 }), sockets.path, 'store')

/** A started server's store gives the same state and version to the next server. */
const expectKeyStable = (key: string, outcome: Outcome): Promise<void> => expectStable(outcome, () => startOnKey(key))

describe('redis log', () => {
  property('round trip: a store written by any calls gives the next server the state and version the writer served', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fuzzCall, { minLength: 1, maxLength: 10 }),
        fc.integer({ min: 1, max: 8 }),
        async (calls, snapshotEvery) => {
          const key = `fresh${stores++}`
          const written = await writeThrough(redisStorage({ url: redisServer.path, key, snapshotEvery }), sockets.path, calls)
          expect(await startOnKey(key)).toEqual(written)
        },
      ),
      params(30),
    )
  })

  property(
    'redis log at start: a server on a log with foreign or rewritten entries serves plain JSON it keeps, or refuses with STORE_DAMAGED; never another error, never a hang',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          logChange.filter((change) => change.kind !== 'drop'),
          async (change) => {
            const key = await copyStore()
            await changeLog(key, change)
            await expectKeyStable(key, await startOnKey(key))
          },
        ),
        params(50),
      )
    },
  )

  property(
    'redis log at start: a log that misses an entry after its snapshot is STORE_DAMAGED, never loaded without it',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.nat(), async (entry) => {
          const key = await copyStore()
          // A change after the snapshot, not the last entry: without the last the log is only shorter,
          // as if it had never been written; those before the snapshot are no longer read.
          const snapshot = Number(await redis.hget(`${key}:meta`, 'snapshot'))
          const entries = (await redis.xrange(`${key}:log`, '-', '+')) as StreamEntry[]
          const after = entries
            .map(([id], index) => ({ version: Number(id.split('-')[0]), seq: Number(id.split('-')[1]), index }))
            .filter(({ version, seq, index }) => version > snapshot && seq === 0 && index < entries.length - 1)
          expect(after.length).toBeGreaterThan(0)
          await changeLog(key, { kind: 'drop', entry: after[entry % after.length]!.index })
          const outcome = await startOnKey(key)
          const dropped = entries[after[entry % after.length]!.index]![0]
          const served = outcome instanceof Error ? outcome.message : `served version ${outcome.version} of ${entries.at(-1)![0]}`
          expect(outcome, `without entry ${dropped}: ${served}`).toBeInstanceOf(Error)
          assertIpcStateError(outcome, [ErrorCode.STORE_DAMAGED])
        }),
        params(10),
      )
    },
  )

  property(
    'redis snapshot at start: a server on a damaged or rewritten snapshot serves plain JSON it keeps, or refuses with STORE_DAMAGED; never another error, never a hang',
    async () => {
      const change = fc.oneof(
        fc.record({ kind: fc.constant('bytes' as const), mutations: fc.array(mutation, { minLength: 1, maxLength: 4 }) }),
        fc.record({ kind: fc.constant('body' as const), edits: fc.array(jsonEdit, { minLength: 1, maxLength: 3 }) }),
      )
      await fc.assert(
        fc.asyncProperty(change, async (rewrite) => {
          const key = await copyStore()
          const snapshot = (await redis.getBuffer(`${key}:snapshot`))!
          const body =
            rewrite.kind === 'bytes'
              ? Buffer.from(applyMutations(snapshot, rewrite.mutations, []))
              : Buffer.from(JSON.stringify(editJson(JSON.parse(snapshot.toString('utf8')), rewrite.edits)) ?? '')
          await redis.set(`${key}:snapshot`, body)
          await expectKeyStable(key, await startOnKey(key))
        }),
        params(40),
      )
    },
  )

  property(
    'redis log while serving: after a foreign entry, or one that does not apply, is appended, calls settle before their timeout with a result or an error that is not retried',
    async () => {
      const appended = fc.oneof(
        fc.record({ foreign: fc.constant(true), fields }),
        fc.record({
          foreign: fc.constant(false),
          fields: fc
            .array(patch, { minLength: 1, maxLength: 3 })
            .map((patches) => [
              't',
              'c',
              'i',
              'other',
              'n',
              '1',
              'p',
              JSON.stringify(patches),
              'v',
              '',
              'h',
              '0',
              'a',
              '',
              'k',
              '',
            ]),
        }),
      )
      await fc.assert(
        fc.asyncProperty(appended, async ({ foreign, fields: values }) => {
          const key = await copyStore()
          const server = await startFuzzServer(redisStorage({ url: redisServer.path, key, connectTimeout: 5_000 }), sockets.path)
          const client = await connectTo(server, sockets.path, 4_000)
          try {
            const version = Number(await redis.hget(`${key}:meta`, 'version'))
            // A foreign XADD takes an id of Redis's making; a well-formed entry comes as a commit would.
            await redis.xadd(`${key}:log`, foreign ? '*' : `${version + 1}-0`, ...values)
            if (!foreign) await redis.hset(`${key}:meta`, 'version', version + 1, 'seq', 0)
            for (let i = 0; i < 2; i++) {
              try {
                await within(SETTLE_MS, 'A call', client.actions.increment(1))
              } catch (error) {
                if (!(error instanceof IpcStateError)) throw error
                expect(error.code).not.toBe(ErrorCode.TIMEOUT)
                expect(RETRYABLE_ERROR_CODES).not.toContain(error.code)
              }
            }
            assertPlainJson(server.state, 1_000_000)
            assertPrototypesUntouched()
          } finally {
            // A server that loops on the entry may never close: that is a finding too, not a hang of the run.
            await within(SETTLE_MS, 'The client closing', client.close())
            await within(SETTLE_MS, 'The server closing', server.close())
          }
        }),
        params(6, { endOnFailure: true }),
      )
    },
  )
})
