import { lstat } from 'node:fs/promises'
import { connect, ErrorCode } from '@ipc-state/client'
import { describe, expect, it, vi } from 'vitest'
import { caught } from '../src/checks.js'
import { startClient } from '../src/processes/client-fixture.js'
import { fixtureAddress, serverPath } from '../src/processes/fixture-env.js'
import { ask, fixture, tempSocketRoot } from '../src/processes/processes.js'
import { RawClient } from '../src/peers/raw-client.js'
import { startServer } from '../src/processes/server-fixture.js'
import type { TestStore } from '../src/stores/test-store.js'

describe('connecting', () => {
  it('a client started before its server connects once the server appears', async () => {
    await using dir = await tempSocketRoot()
    await using worker = startClient(dir, { IPC_STATE_REPORT_RETRIES: '1', IPC_STATE_RETRY_MS: '20' })
    // The client has tried at least once and scheduled a retry: nothing listens yet.
    await worker.waitFor('retry')
    await expect(lstat(serverPath(dir.socketRoot))).rejects.toMatchObject({ code: 'ENOENT' })
    expect(worker.events.some((event) => event.event === 'connected')).toBe(false)

    await using server = await startServer({ socketRoot: dir.socketRoot })
    const connected = await worker.waitFor('connected')
    expect(connected).toMatchObject({ epoch: server.epoch, version: 0 })
    expect(await ask(worker, { op: 'call', action: 'increment', input: 7 })).toMatchObject({ value: 7 })
    expect((await server.view()).state.counter).toBe(7)
  })

  describe('with no server', () => {
    it('connect fails with SERVER_UNAVAILABLE after connectAttempts, naming the socket path; retries are numbered from 0', async () => {
      await using dir = await tempSocketRoot()
      const delays: number[] = []
      const error = await caught(
        connect<TestStore>({
          ...fixtureAddress(dir),
          connectAttempts: 3,
          retryDelay: (attempt) => {
            delays.push(attempt)
            return 5
          },
        }),
      )
      expect(error.name).toBe('IpcStateError')
      expect(error.code).toBe(ErrorCode.SERVER_UNAVAILABLE)
      expect(error.message).toContain(serverPath(dir.socketRoot))
      expect(error.message).toContain('3 attempts')
      // Three attempts: two waits in between, numbered from 0 as RetryDelay documents.
      expect(delays).toEqual([0, 1])
    })

    it('an aborted signal ends the wait with ABORTED', async () => {
      await using dir = await tempSocketRoot()
      const early = await caught(connect<TestStore>({ ...fixtureAddress(dir), signal: AbortSignal.abort() }))
      expect(early.code).toBe(ErrorCode.ABORTED)

      const controller = new AbortController()
      let retries = 0
      const pending = connect<TestStore>({
        ...fixtureAddress(dir),
        connectAttempts: Number.POSITIVE_INFINITY,
        signal: controller.signal,
        retryDelay: () => {
          // Abort while the client is waiting between two attempts.
          if (++retries === 2) setImmediate(() => controller.abort(new Error('user gave up')))
          return 5
        },
      })
      const late = await caught(pending)
      expect(late.code).toBe(ErrorCode.ABORTED)
      expect(retries).toBe(2)
    })
  })

  it('a server that accepts but never answers the handshake counts as a failed attempt', async () => {
    await using mute = await startServer({ script: fixture('hostile/silent-server.ts'), env: { IPC_STATE_MUTE_HELLO: '1' } })
    const error = await caught(connect<TestStore>({ ...mute.address, timeout: 100, connectAttempts: 2, retryDelay: () => 1 }))
    expect(error.code).toBe(ErrorCode.SERVER_UNAVAILABLE)
    expect(error.message).toMatch(/after 2 attempts.*No handshake .* within 100 ms/)
    await vi.waitFor(() =>
      expect(mute.process.events.filter((event) => event.event === 'received' && event.type === 'hello')).toHaveLength(2),
    )
  })

  it('a hello with another protocol version gets PROTOCOL_MISMATCH naming both versions', async () => {
    await using server = await startServer()
    await using peer = await RawClient.connect(server.path)
    await peer.send({ type: 'hello', data: { id: 1, protocol: 999, clientId: 'from-the-future', replica: true } })

    const response = await peer.response(1)
    expect(response.data.result).toBeUndefined()
    expect(response.data.error.code).toBe(ErrorCode.PROTOCOL_MISMATCH)
    expect(response.data.error.message).toContain('999')
    expect(response.data.error.message).toMatch(/\b1\b/)
    expect(response.data.error.data).toEqual({ client: 999, server: 1 })
    // The server then closes that connection, and keeps serving others.
    await peer.expectClosed()
    await using client = await connect<TestStore>(server.address)
    expect(await client.actions.increment(1)).toBe(1)
  })
})
