// The transports beyond the socket fed what a hostile peer sends: anything posted to a message port, and any WebSocket upgrade request.
import { createConnection } from 'node:net'
import { MessageChannel, type MessagePort } from 'node:worker_threads'
import { connect, type IpcStateClient, messagePortTransport as clientPorts } from '@ipc-state/client'
import { createServer, messagePortTransport, unixSocketTransport } from '@ipc-state/server'
import { listenWebSocket } from '@ipc-state/server/websocket'
import { encodeClientMessage, PROTOCOL_VERSION, WEB_SOCKET_PROTOCOL, WEB_SOCKET_TOKEN_PREFIX } from '@ipc-state/protocol/wire'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, vi } from 'vitest'
import { params, property } from './budget.js'
import { assertPrototypesUntouched, within } from './checks.js'
import { connectTo, fuzzStore, tempFolder } from './fuzz-store.js'
import { mutated } from './mutate.js'
import { clientMessage, streamFrame, textFrame } from './wire-inputs.js'

const SETTLE_MS = 20_000

let sockets: AsyncDisposable & { path: string }

beforeAll(async () => {
  sockets = await tempFolder('ipcs-fuzz-transports-')
})

afterAll(async () => {
  await sockets?.[Symbol.asyncDispose]()
})

const hello = encodeClientMessage({
  type: 'hello',
  data: { id: 0, protocol: PROTOCOL_VERSION, clientId: 'port', replica: true, binary: true },
})

const donors: Uint8Array[] = fc.sample(clientMessage, { numRuns: 8, seed: 5 }).map((m) => textFrame(m, false))

/** Bytes as the port transport carries them: an `ArrayBuffer` of their own. */
const buffer = (bytes: Uint8Array): ArrayBuffer => new Uint8Array(bytes).buffer

/**
 * What a hostile port posts: the transport's own kinds gone wrong (frames mutated or cut, counts
 * of bytes read that were never sent, a goodbye mid-frame) and values of any other kind.
 */
const portMessage: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: mutated(streamFrame, donors).map(buffer), weight: 4 },
  { arbitrary: fc.constant(buffer(Buffer.from(hello))), weight: 1 },
  {
    arbitrary: fc.oneof(
      fc.integer(),
      fc.double(),
      fc.constantFrom(Number.MAX_SAFE_INTEGER, 2 ** 53, -0, Number.NaN, Number.POSITIVE_INFINITY),
    ),
    weight: 2,
  },
  { arbitrary: fc.constant(null), weight: 1 },
  { arbitrary: fc.anything({ maxDepth: 2 }), weight: 2 },
  { arbitrary: fc.uint8Array({ maxLength: 64 }), weight: 1 },
)

/** The other end of a new channel whose first end `ports` serves. */
function portTo(ports: ReturnType<typeof messagePortTransport>): MessagePort {
  const { port1, port2 } = new MessageChannel()
  ports.accept(port1)
  return port2
}

/** Characters a header value or a request path may carry, so the request reaches the checks whole. */
const visible = fc.string({ unit: fc.constantFrom(...'abcXYZ019.:/-_@?#%[]'.split('')), maxLength: 24 })
/** What a subprotocol may be (an HTTP token), so that only our checks, not the header's syntax, decide. */
const tokenChars = fc.string({ unit: fc.constantFrom(...'abcXYZ019.-_'.split('')), minLength: 1, maxLength: 20 })

/** One upgrade request, as the property makes it. */
interface UpgradeRequest {
  host: string
  origin?: string | undefined
  path: string
  protocols?: string[] | undefined
}

/** One upgrade request: each part most often what this listener takes, else something near it or anything. */
function upgradeRequest(port: number, token: string): fc.Arbitrary<UpgradeRequest> {
  const own = [`127.0.0.1:${port}`, `localhost:${port}`]
  const right = <T>(valid: fc.Arbitrary<T>, wrong: fc.Arbitrary<T>) =>
    fc.oneof({ arbitrary: valid, weight: 3 }, { arbitrary: wrong, weight: 1 })
  const hello = [WEB_SOCKET_PROTOCOL, WEB_SOCKET_TOKEN_PREFIX + token]
  return fc.record({
    host: right(
      fc.constantFrom(...own, `LOCALHOST:${port}`),
      fc.oneof(fc.constantFrom(`127.0.0.1:${port + 1}`, 'rebound.example', `rebound.example:${port}`, `127.0.0.1`), visible),
    ),
    origin: right(
      fc.constantFrom(undefined, ...own.map((host) => `http://${host}`)),
      fc.oneof(fc.constantFrom(`https://127.0.0.1:${port}`, 'http://foreign.example', 'null'), visible),
    ),
    path: right(
      fc.constantFrom('/', '/?x=1'),
      fc.oneof(
        fc.constantFrom('//', '/page'),
        visible.map((text) => `/${text.replaceAll('#', '')}`),
      ),
    ),
    protocols: right(
      fc.constantFrom(hello, [...hello].reverse(), [...hello, 'other']),
      fc.option(
        fc.uniqueArray(
          fc.oneof(
            fc.constantFrom(...hello, `${WEB_SOCKET_TOKEN_PREFIX}${token.slice(1)}x`),
            tokenChars,
            tokenChars.map((text) => WEB_SOCKET_TOKEN_PREFIX + text),
          ),
          { maxLength: 10 },
        ),
        { nil: undefined },
      ),
    ),
  })
}

/** Whether the listener must take `request`, as its documentation says: our Host, an allowed Origin, its path, and the token. */
function mustAccept(request: UpgradeRequest, port: number, token: string) {
  const own = [`127.0.0.1:${port}`, `localhost:${port}`]
  const offered = (request.protocols ?? []).slice(0, 8)
  const shown = offered.find((protocol) => protocol.startsWith(WEB_SOCKET_TOKEN_PREFIX))
  return (
    own.includes(request.host.toLowerCase()) &&
    (request.origin === undefined || own.map((host) => `http://${host}`).includes(request.origin.toLowerCase())) &&
    request.path.split('?')[0] === '/' &&
    offered.includes(WEB_SOCKET_PROTOCOL) &&
    shown === WEB_SOCKET_TOKEN_PREFIX + token
  )
}

/** Sends one upgrade request on a raw connection and resolves with the status the listener answered, or 0 if it only closed. */
function upgradeStatus(port: number, request: UpgradeRequest) {
  const lines = [
    `GET ${request.path} HTTP/1.1`,
    `Host: ${request.host}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13',
    ...(request.origin === undefined ? [] : [`Origin: ${request.origin}`]),
    ...(request.protocols === undefined ? [] : [`Sec-WebSocket-Protocol: ${request.protocols.join(', ')}`]),
  ]
  return new Promise<number>((resolve) => {
    const socket = createConnection(port, '127.0.0.1')
    let answer = ''
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => {
      answer += chunk
      const status = /^HTTP\/1\.1 (\d{3}) /.exec(answer)
      if (status !== null) {
        resolve(Number(status[1]))
        socket.destroy()
      }
    })
    socket.on('error', () => undefined)
    socket.on('close', () => resolve(0))
    socket.write(`${lines.join('\r\n')}\r\n\r\n`)
  })
}

describe('transports', () => {
  property(
    'message ports: whatever a port posts, the server serves or cuts it alone, and a client on another port calls on',
    async () => {
      const ports = messagePortTransport({ name: 'fuzz ports' })
      await using server = await createServer({ store: fuzzStore, transport: ports })
      const good: IpcStateClient<typeof fuzzStore> = await connect<typeof fuzzStore>({
        transport: clientPorts({ openPort: () => portTo(ports) }),
        timeout: 5_000,
      })
      try {
        await fc.assert(
          fc.asyncProperty(fc.array(portMessage, { minLength: 1, maxLength: 8 }), async (messages) => {
            const hostile = portTo(ports)
            hostile.on('message', () => undefined)
            for (const message of messages) {
              // A copy is transferred: fast-check may hand the same value again (a constant, a
              // shrink), and a buffer once transferred is detached and cannot be posted again.
              if (message instanceof ArrayBuffer) {
                const copy = message.slice(0)
                hostile.postMessage(copy, [copy])
              } else hostile.postMessage(message)
            }
            const before = server.state.counter
            await within(SETTLE_MS, 'A call of the client on another port', good.actions.increment(1))
            expect(server.state.counter).toBe(before + 1)
            assertPrototypesUntouched()
            // A peer that goes (it closes, or its thread ends) leaves nothing behind.
            hostile.close()
            await vi.waitFor(() => expect(server.connectionCount).toBe(1), { timeout: SETTLE_MS, interval: 10 })
          }),
          params(40),
        )
      } finally {
        await good.close()
      }
    },
  )

  property(
    'WebSocket upgrades: any Host, Origin, path and subprotocols are taken only when all are right, and the server serves on',
    async () => {
      await using web = await listenWebSocket()
      const socket = unixSocketTransport({ socketRoot: `${sockets.path}/`, appspace: 'fz.', id: 'ws' })
      await using server = await createServer({ store: fuzzStore, transport: [socket, web] })
      const good = await connectTo(server, sockets.path, 5_000)
      const statuses = new Set<number>()
      try {
        await fc.assert(
          fc.asyncProperty(upgradeRequest(web.port, web.token), async (request) => {
            const status = await within(SETTLE_MS, 'The answer to an upgrade request', upgradeStatus(web.port, request))
            statuses.add(status)
            if (mustAccept(request, web.port, web.token)) expect(status).toBe(101)
            else expect([401, 403, 404]).toContain(status)
            const before = server.state.counter
            await good.actions.increment(1)
            expect(server.state.counter).toBe(before + 1)
          }),
          params(200),
        )
        // The inputs reach every answer, the upgrade included: the property is not won by refusing all.
        if (!process.env.IPC_STATE_FUZZ_PATH) expect([...statuses].sort()).toEqual([101, 401, 403, 404])
        // Every connection the accepted upgrades made is gone with them.
        await vi.waitFor(() => expect(server.connectionCount).toBe(1), { timeout: SETTLE_MS, interval: 10 })
      } finally {
        await good.close()
      }
    },
  )
})
