// Worker threads reach a server over message ports while Unix-socket client processes of the same server write too: exactly once, every replica converged.
import { createServer, messagePortTransport, unixSocketTransport } from '@ipc-state/server'
import { describe, expect, it } from 'vitest'
import { disposeAll, fixture, startFixture, tempSocketRoot } from '../src/processes/processes.js'
import { startPortWorker } from '../src/processes/port-workers.js'
import type { Message } from '../src/stores/test-store.js'
import { testStore } from '../src/stores/test-store.js'

const WORKERS = 4
const CALLS = 500
const SOCKET_CLIENTS = 2
const SOCKET_CALLS = 200

describe('worker threads over message ports, beside Unix-socket clients of the same server', () => {
  it('gives exactly 4 × 500 + what the socket clients wrote, every replica converged, though ports are dropped mid-run and a thread is killed', async () => {
    await using root = await tempSocketRoot()
    const ports = messagePortTransport({ name: 'worker ports' })
    const socket = unixSocketTransport({ socketRoot: root.socketRoot, appspace: 'test.', id: 'server' })
    await using server = await createServer({ store: testStore, transport: [socket, ports] })
    expect(server.path).toBe(socket.name)

    await using workers = disposeAll(
      Array.from({ length: WORKERS }, (_, index) =>
        startPortWorker(ports, { action: 'increment', calls: CALLS, concurrency: 8, tag: `w${index}` }),
      ),
    )
    // Pipelines addMessage calls, each with a text of its own, until it is killed.
    const victim = startPortWorker(ports, { action: 'addMessage', calls: 100_000, concurrency: 8, tag: 'victim' })
    await using writers = disposeAll(
      Array.from({ length: SOCKET_CLIENTS }, () =>
        startFixture(fixture('clients/load-client.ts'), {
          env: {
            IPC_STATE_SOCKET_ROOT: root.socketRoot,
            IPC_STATE_CALLS: String(SOCKET_CALLS),
            IPC_STATE_CONCURRENCY: '4',
            IPC_STATE_WAIT_GO: '1',
          },
        }),
      ),
    )
    await Promise.all([...workers, victim].map((worker) => worker.waitFor('connected')))
    await Promise.all(writers.map((writer) => writer.waitFor('connected')))
    for (const writer of writers) writer.child.stdin!.write('go\n')

    // Mid-run, every worker loses its port with calls in flight: it asks for a new one, resyncs and
    // resends what was unanswered, which the server must not apply twice.
    await Promise.all(workers.map((worker) => worker.waitFor((m) => m.kind === 'progress' && (m.acked as number) >= CALLS / 2)))
    for (const worker of workers) worker.dropPort()
    await victim.waitFor((m) => m.kind === 'progress' && (m.acked as number) >= 50)
    await victim.worker.terminate()

    const done = await Promise.all(workers.map((worker) => worker.waitFor('done')))
    for (const result of done) expect(result).toMatchObject({ acked: CALLS, errors: [] })
    // A socket client makes one more call after its run, to show it still works.
    const written = await Promise.all(writers.map((writer) => writer.waitFor('done')))
    for (const result of written) expect(result).toMatchObject({ acked: SOCKET_CALLS + 1, errors: {}, finalOk: true })
    for (const worker of workers) expect(worker.portsGiven).toBeGreaterThanOrEqual(2)

    const expected = WORKERS * CALLS + SOCKET_CLIENTS * (SOCKET_CALLS + 1)
    expect(server.state.counter).toBe(expected)
    // The killed thread's calls were each applied once at most, whatever was in flight when it died.
    const texts = server.state.messages.map((message: Message) => message.text)
    expect(new Set(texts).size).toBe(texts.length)
    expect(texts.length).toBeGreaterThanOrEqual(50)
    for (const text of texts) expect(text).toMatch(/^victim-\d+$/)
    expect(server.version).toBe(expected + texts.length)

    // Every replica converged on the server's state and version.
    const reports = await Promise.all(workers.map((worker) => worker.report(expected)))
    for (const report of reports) {
      expect(report).toMatchObject({ counter: expected, version: server.version })
      expect((report.messages as Message[]).map((message) => message.text)).toEqual(texts)
    }
    // The socket clients closed and exited after their run; of the threads, the killed one's
    // connection is gone and the four others remain.
    for (const writer of writers) expect(await writer.exited).toEqual({ code: 0, signal: null })
    await expect.poll(() => server.connectionCount).toBe(WORKERS)
  })
})
