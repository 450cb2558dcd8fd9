// A real server fed hostile calls and hostile frames over its socket, next to a well-behaved client.
import { createConnection } from 'node:net'
import { encodeClientMessage, PROTOCOL_VERSION } from '@ipc-state/protocol/wire'
import { ErrorCode, IpcStateError } from '@ipc-state/protocol'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect } from 'vitest'
import { params, property } from './budget.js'
import { assertPlainJson, assertPrototypesUntouched, within } from './checks.js'
import { connectTo, startFuzzServer, tempFolder } from './fuzz-store.js'
import { mutated } from './mutate.js'
import { binaryBody, clientMessage, json, key, streamFrame, textFrame } from './wire-inputs.js'

const SETTLE_MS = 20_000

let sockets: AsyncDisposable & { path: string }

beforeAll(async () => {
  sockets = await tempFolder('ipcs-fuzz-server-')
})

afterAll(async () => {
  await sockets?.[Symbol.asyncDispose]()
})

const hello = Buffer.from(
  encodeClientMessage({
    type: 'hello',
    data: { id: 0, protocol: PROTOCOL_VERSION, clientId: 'raw', replica: false, binary: true },
  }),
)

// Donors for splices: valid frames of both kinds.
const donors: Uint8Array[] = fc
  .sample(clientMessage, { numRuns: 8, seed: 3 })
  .flatMap((m) => [textFrame(m, false), binaryBody(m) ?? new Uint8Array()])

/** Writes `bytes` on a new connection to the server at `path`, ends it, and resolves once the server has closed it too. */
async function sendAndHangUp(path: string, bytes: Uint8Array): Promise<void> {
  const socket = createConnection(path)
  socket.on('data', () => undefined)
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  socket.on('error', () => undefined)
  socket.end(bytes)
  await within(SETTLE_MS, 'The server closing a connection that hung up', closed)
}

/**
 * How long a connection the server should close by a deadline of {@link DEADLINE_MS} may stay open
 * before it counts as never closed: fifty times the deadline, for two busy cores.
 */
const DEADLINE_MS = 200
const NEVER_MS = 50 * DEADLINE_MS

/** Writes `bytes` on a new connection and leaves it open: resolves once the server closes it. */
async function sendAndWait(path: string, bytes: Uint8Array): Promise<void> {
  const socket = createConnection(path)
  socket.on('data', () => undefined)
  socket.on('error', () => undefined)
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  socket.write(bytes)
  try {
    await within(NEVER_MS, 'The server closing a connection past its deadline', closed)
  } finally {
    socket.destroy()
  }
}

/** A frame of the kind `binary` says, cut after its first byte and before its end. */
const cutFrame = (binary: boolean) =>
  fc
    .tuple(
      streamFrame.filter((frame) => (frame[0] === 0) === binary),
      // Cut right after a binary header (5 bytes) as often as anywhere else.
      fc.oneof(fc.constantFrom(1, 4, 5, 6), fc.nat()),
    )
    .map(([frame, at]) => frame.subarray(0, Math.max(1, at % frame.length)))

describe('server input', () => {
  property('deadlines: a text frame left unfinished after the hello is closed by frameTimeout', async () => {
    await using server = await startFuzzServer(undefined, sockets.path, { frameTimeout: DEADLINE_MS })
    await fc.assert(
      fc.asyncProperty(cutFrame(false), async (partial) => {
        await sendAndWait(server.path, Buffer.concat([hello, partial]))
      }),
      params(10, { endOnFailure: true }),
    )
  })

  property(
    'deadlines: a binary frame left unfinished after the hello, its header included, is closed by frameTimeout',
    async () => {
      await using server = await startFuzzServer(undefined, sockets.path, { frameTimeout: DEADLINE_MS })
      await fc.assert(
        fc.asyncProperty(cutFrame(true), async (partial) => {
          await sendAndWait(server.path, Buffer.concat([hello, partial]))
        }),
        params(10, { endOnFailure: true }),
      )
    },
  )

  property('deadlines: a connection that sends anything but a hello is closed by handshakeTimeout', async () => {
    await using server = await startFuzzServer(undefined, sockets.path, { handshakeTimeout: DEADLINE_MS })
    const notHello = fc.oneof(
      fc.array(streamFrame, { maxLength: 3 }).map((frames) => Buffer.concat(frames)),
      fc.uint8Array({ maxLength: 64 }),
    )
    await fc.assert(
      fc.asyncProperty(notHello, async (bytes) => {
        // A real hello would rightly end the handshake.
        fc.pre(!Buffer.from(bytes).includes('"hello"'))
        await sendAndWait(server.path, bytes)
      }),
      params(10, { endOnFailure: true }),
    )
  })

  property(
    "actions: calls that write any keys, prototypes' names included, write no prototype and leave other clients' calls as they were",
    async () => {
      const put = fc.record({ key, sub: key, value: json })
      await fc.assert(
        fc.asyncProperty(fc.array(put, { minLength: 1, maxLength: 4 }), async (puts) => {
          await using server = await startFuzzServer(undefined, sockets.path)
          const hostile = await connectTo(server, sockets.path, 5_000)
          const other = await connectTo(server, sockets.path, 5_000)
          try {
            for (const input of puts) {
              try {
                await hostile.actions.put(input)
              } catch (error) {
                if (!(error instanceof IpcStateError)) throw error
                // BAD_REQUEST: an input holding `__proto__` (or `constructor.prototype`) is refused whole.
                expect([ErrorCode.ACTION_FAILED, ErrorCode.BAD_ARGUMENTS, ErrorCode.BAD_REQUEST]).toContain(error.code)
              }
              assertPrototypesUntouched()
            }
            const before = server.state.counter
            await other.actions.increment(1)
            expect(server.state.counter).toBe(before + 1)
            assertPlainJson(server.state, 1_000_000)
          } finally {
            await Promise.all([hostile.close(), other.close()])
            assertPrototypesUntouched()
          }
        }),
        params(40),
      )
    },
  )

  property(
    'frames: a connection that sends random or mutated frames of both kinds stops no other client and writes no prototype',
    async () => {
      const bytes = fc.oneof(
        fc
          .array(streamFrame, { minLength: 1, maxLength: 4 })
          .chain((frames) => mutated(fc.constant(Buffer.concat([hello, ...frames])), donors)),
        fc.uint8Array({ minLength: 1, maxLength: 512 }).map((noise) => Buffer.concat([hello, noise])),
      )
      await using server = await startFuzzServer(undefined, sockets.path)
      const other = await connectTo(server, sockets.path, 5_000)
      try {
        await fc.assert(
          fc.asyncProperty(bytes, async (input) => {
            await sendAndHangUp(server.path, input)
            const version = server.version
            await other.actions.increment(1)
            expect(server.version).toBe(version + 1)
            assertPlainJson(server.state, 1_000_000)
            assertPrototypesUntouched()
          }),
          params(150),
        )
      } finally {
        await other.close()
      }
    },
  )
})
