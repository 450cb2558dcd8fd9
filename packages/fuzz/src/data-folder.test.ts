// Real servers started on data folders whose journal segments and snapshots were damaged or rewritten.
import { cp, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ErrorCode } from '@ipc-state/protocol'
import { fileStorage } from '@ipc-state/server'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect } from 'vitest'
import { params, property } from './budget.js'
import { assertIpcStateError } from './checks.js'
import {
  buildSegment,
  buildSnapshot,
  changeJson,
  isChange,
  editJson,
  frame,
  jsonEdit,
  lengthPatch,
  oddValue,
  parseSegment,
  packChange,
  parseSnapshot,
  storedPatch,
  unpackChange,
  type JsonEdit,
  type PackedParts,
} from './folder-files.js'
import { fuzzCall, hasTopLevelShape, tempFolder, writeSome } from './fuzz-store.js'
import { mutation, applyMutations, type Mutation } from './mutate.js'
import { expectStable, type Outcome, startOn, writeThrough } from './stored-outcome.js'

/** How long a start or a close may take before it counts as a hang (two busy cores, a small folder). */

let base: AsyncDisposable & { path: string }
/** The folder the real server wrote: segments and a snapshot, the newest segment ended by a clean close. */
let pristine: string
let files: { journals: string[]; snapshots: string[] }
let runs = 0

beforeAll(async () => {
  base = await tempFolder('ipcs-fuzz-folder-')
  pristine = join(base.path, 'pristine')
  // A small compaction threshold: the folder gets snapshots and several segments, as a long-lived one has.
  await writeSome(fileStorage({ dir: pristine, compactBytes: 2048, fsync: 'off' }), base.path, 12)
  // Then a second run under a threshold it cannot reach: whenever the first one last compacted, the
  // newest segment holds this run's records (its join, its calls, its leave).
  await writeSome(fileStorage({ dir: pristine, compactBytes: 1024 * 1024, fsync: 'off' }), base.path, 2)
  const names = (await readdir(pristine)).sort()
  files = { journals: names.filter((n) => n.startsWith('journal-')), snapshots: names.filter((n) => n.startsWith('snapshot-')) }
  expect(files.journals.length).toBeGreaterThan(0)
  expect(files.snapshots.length).toBeGreaterThan(0)
  // The newest segment has records after its header and before its last one, for the length property.
  expect(parseSegment(await readFile(join(pristine, files.journals.at(-1)!))).records.length).toBeGreaterThan(3)
})

afterAll(async () => {
  await base?.[Symbol.asyncDispose]()
})

/** Lists of who is present, as a snapshot keeps them, with odd and prototype ids. */
const presentLists = fc.array(
  fc.record(
    {
      instanceId: fc.oneof(fc.string({ maxLength: 4 }), fc.constantFrom('__proto__', 'constructor', ''), oddValue),
      clientId: fc.oneof(fc.string({ maxLength: 4 }), oddValue),
      server: fc.string({ maxLength: 4 }),
    },
    { requiredKeys: [] },
  ),
  { maxLength: 4 },
)

/** Copies the pristine folder, lets `change` rewrite one file of it, and starts a server there. */
async function startOnCopy(name: string, change: (bytes: Buffer) => Buffer): Promise<{ dir: string; outcome: Outcome }> {
  const dir = await mkdtemp(join(base.path, `run-${runs++}-`))
  await cp(pristine, dir, { recursive: true })
  await writeFile(join(dir, name), change(await readFile(join(dir, name))))
  return { dir, outcome: await startOnFolder(dir) }
}

/** Starts a server on `dir` and closes it: what it served, or why it refused (see `startOn` of stored-outcome.ts). */
const startOnFolder = (dir: string): Promise<Outcome> => startOn(fileStorage({ dir, fsync: 'off' }), base.path, 'folder')

/** A started server's folder gives the same state and version to the next server. */
const expectFolderStable = (dir: string, outcome: Outcome): Promise<void> => expectStable(outcome, () => startOnFolder(dir))

/** What to do to a segment: its bytes mutated, or its records rewritten with every checksum right. */
const segmentChange = fc.oneof(
  fc.array(mutation, { minLength: 1, maxLength: 4 }).map((mutations) => ({ kind: 'bytes' as const, mutations })),
  fc
    .record({
      record: fc.nat(),
      edits: fc.array(jsonEdit, { minLength: 1, maxLength: 3 }),
      op: fc.constantFrom('edit', 'drop', 'repeat', 'swap'),
    })
    .map((change) => ({ kind: 'records' as const, ...change })),
)

function changeSegment(
  change: { kind: 'bytes'; mutations: Mutation[] } | { kind: 'records'; record: number; edits: JsonEdit[]; op: string },
) {
  return (bytes: Buffer): Buffer => {
    if (change.kind === 'bytes') return Buffer.from(applyMutations(bytes, change.mutations, []))
    const { magic, records } = parseSegment(bytes)
    const at = change.record % records.length
    const record = records[at]!
    if (change.op === 'edit') {
      records[at] = {
        payload: Buffer.from(JSON.stringify(editJson(changeJson(record.payload), change.edits)) ?? 'null'),
      }
    } else if (change.op === 'drop') records.splice(at, 1)
    else if (change.op === 'repeat') records.splice(at, 0, record)
    else if (at + 1 < records.length) records.splice(at, 2, records[at + 1]!, record)
    return buildSegment(magic, records)
  }
}

function changeSnapshot(change: { kind: 'bytes'; mutations: Mutation[] } | { kind: 'body'; edits: JsonEdit[] }) {
  return (bytes: Buffer): Buffer => {
    if (change.kind === 'bytes') return Buffer.from(applyMutations(bytes, change.mutations, []))
    const { magic, body } = parseSnapshot(bytes)
    return buildSnapshot(magic, Buffer.from(JSON.stringify(editJson(JSON.parse(body.toString('utf8')), change.edits)) ?? 'null'))
  }
}

/** Rewrites change `record` (counted round the segment's changes) of a journal segment, its checksums made right. */
function rewriteChange(record: number, rewrite: (change: PackedParts) => PackedParts, lengths?: (number | undefined)[]) {
  return (bytes: Buffer): Buffer => {
    const { magic, records } = parseSegment(bytes)
    const changes = records.filter((r) => isChange(r.payload))
    if (changes.length === 0) return bytes
    const change = changes[record % changes.length]!
    change.payload = packChange(rewrite(unpackChange(change.payload)), lengths)
    return buildSegment(magic, records)
  }
}

describe('data folder', () => {
  property('round trip: a folder written by any calls gives the next server the state and version the writer served', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fuzzCall, { minLength: 1, maxLength: 10 }),
        fc.integer({ min: 64, max: 4096 }),
        async (calls, compactBytes) => {
          const dir = await mkdtemp(join(base.path, `run-${runs++}-`))
          // A small compaction threshold: some runs write snapshots and new segments on the way.
          const written = await writeThrough(fileStorage({ dir, compactBytes, fsync: 'off' }), base.path, calls)
          expect(await startOnFolder(dir)).toEqual(written)
        },
      ),
      params(30),
    )
  })

  property(
    'journal segments: a server on a damaged or rewritten segment serves plain JSON it keeps, or refuses with STORE_DAMAGED; never another error, never a hang',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.nat(), segmentChange, async (which, change) => {
          const name = files.journals[which % files.journals.length]!
          const { dir, outcome } = await startOnCopy(name, changeSegment(change))
          await expectFolderStable(dir, outcome)
        }),
        params(60),
      )
    },
  )

  property(
    'journal segments: a server on a change whose patches were rewritten, checksums right, serves plain JSON it keeps, or refuses with STORE_DAMAGED',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.nat(), fc.nat(), fc.array(storedPatch, { maxLength: 3 }), async (which, record, patches) => {
          const name = files.journals[which % files.journals.length]!
          const { dir, outcome } = await startOnCopy(
            name,
            rewriteChange(record, (change) => ({ ...change, p: JSON.stringify(patches) })),
          )
          await expectFolderStable(dir, outcome)
        }),
        params(60),
      )
    },
  )

  property(
    "journal segments: a server on a last change that sets an array's length to any number serves plain JSON with no hole, or refuses with STORE_DAMAGED",
    async () => {
      await fc.assert(
        fc.asyncProperty(lengthPatch, async (patch) => {
          const { dir, outcome } = await startOnCopy(files.journals.at(-1)!, (bytes) => {
            const { magic, records } = parseSegment(bytes)
            const change = records.filter((r) => isChange(r.payload)).at(-1)!
            change.payload = packChange({ ...unpackChange(change.payload), p: JSON.stringify([patch]) })
            return buildSegment(magic, records)
          })
          await expectFolderStable(dir, outcome)
        }),
        params(20),
      )
    },
  )

  property(
    'journal segments: a server on a packed change whose fields, texts and lengths were rewritten, checksums right, serves plain JSON it keeps, or refuses with STORE_DAMAGED',
    async () => {
      const number = fc.oneof(fc.double(), fc.constantFrom(-1, 1.5, 2 ** 53 + 2, Number.NaN), fc.nat({ max: 40 }))
      const text = fc.oneof(
        fc.string({ maxLength: 6 }),
        fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.stringify(value)),
        oddValue.map((value) => JSON.stringify(value) ?? 'undefined'),
      )
      const rewrite = fc.record(
        {
          v: number,
          n: number,
          i: text,
          r: fc.option(text, { nil: undefined }),
          m: fc.option(text, { nil: undefined }),
          p: text,
          lengths: fc.array(fc.option(fc.oneof(fc.nat({ max: 64 }), fc.constant(0xffffffff)), { nil: undefined }), {
            maxLength: 3,
          }),
        },
        { requiredKeys: [] },
      )
      await fc.assert(
        fc.asyncProperty(fc.nat(), fc.nat(), rewrite, async (which, record, { lengths, ...fields }) => {
          const name = files.journals[which % files.journals.length]!
          const { dir, outcome } = await startOnCopy(
            name,
            rewriteChange(record, (change) => ({ ...change, ...fields }), lengths),
          )
          if (outcome instanceof Error) assertIpcStateError(outcome, [ErrorCode.STORE_DAMAGED])
          await expectFolderStable(dir, outcome)
        }),
        params(60),
      )
    },
  )

  property(
    'snapshots: a server on a snapshot with damaged bytes serves plain JSON it keeps, or refuses with STORE_DAMAGED; never another error, never a hang',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 4 }), async (mutations) => {
          const { dir, outcome } = await startOnCopy(files.snapshots.at(-1)!, changeSnapshot({ kind: 'bytes', mutations }))
          await expectFolderStable(dir, outcome)
        }),
        params(40),
      )
    },
  )

  property(
    'snapshots: a server on a snapshot rewritten with its checksum right serves plain JSON it keeps, or refuses with STORE_DAMAGED; never another error, never a hang',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(jsonEdit, { minLength: 1, maxLength: 3 }), async (edits) => {
          const { dir, outcome } = await startOnCopy(files.snapshots.at(-1)!, changeSnapshot({ kind: 'body', edits }))
          await expectFolderStable(dir, outcome)
        }),
        params(40),
      )
    },
  )

  property(
    "snapshots: a server serves only a state of the store's shape at a version of 0 or more, or refuses with STORE_DAMAGED",
    async () => {
      const field = fc.constantFrom('version', 'state', 'counter', 'list', 'items', 'present')
      await fc.assert(
        fc.asyncProperty(field, fc.oneof(oddValue, presentLists), async (name, value) => {
          const { outcome } = await startOnCopy(files.snapshots.at(-1)!, (bytes) => {
            const { magic, body } = parseSnapshot(bytes)
            const snapshot = JSON.parse(body.toString('utf8'))
            if (name === 'version' || name === 'state' || name === 'present') snapshot[name] = value
            else snapshot.state[name] = value
            return buildSnapshot(magic, Buffer.from(JSON.stringify(snapshot)))
          })
          if (outcome instanceof Error) return
          // The rule a start holds a snapshot to: each top-level key keeps the JSON kind it has in the
          // initial state (what is inside a list or a map is the actions' business).
          expect(hasTopLevelShape(JSON.parse(outcome.state)), `state ${outcome.state}`).toBe(true)
          expect(outcome.version).toBeGreaterThanOrEqual(0)
        }),
        params(40),
      )
    },
  )

  property(
    'journal segments: a record length past the end of the file, with its checksum right, before other records is STORE_DAMAGED, never a torn tail',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.nat(), fc.nat({ max: 0xffffffff }), async (which, huge) => {
          const name = files.journals.at(-1)!
          const { dir, outcome } = await startOnCopy(name, (bytes) => {
            const { magic, records } = parseSegment(bytes)
            // Not the header (record 0) and not the last record: valid records follow the damaged one.
            const at = 1 + (which % Math.max(1, records.length - 2))
            const before = buildSegment(magic, records.slice(0, at))
            const rest = bytes.length - before.length - 12
            const length = rest + 1 + (huge % (0xffffffff - rest))
            return Buffer.concat([
              before,
              frame(records[at]!.payload, length),
              buildSegment(Buffer.alloc(0), records.slice(at + 1)),
            ])
          })
          expect(outcome, JSON.stringify(outcome)).toBeInstanceOf(Error)
          assertIpcStateError(outcome, [ErrorCode.STORE_DAMAGED])
          await expectFolderStable(dir, outcome)
        }),
        params(20),
      )
    },
  )
})
