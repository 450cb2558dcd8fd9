import { afterEach, expect, it } from 'vitest'
import { runExample, stopExamples } from '../support/run-example.js'

afterEach(stopExamples)

it('passes the lease on with a larger token when its holder dies, and when it hangs', async () => {
  const server = runExample('mutex/server.ts')
  await server.waitForLine(/^listening at /)
  // Killed while it holds the lease: released once its grace ran out.
  const killed = runExample('mutex/worker.ts', ['60000'])
  await killed.waitForLine(/^acquired token 1$/)
  killed.child.kill('SIGKILL')
  // Hangs while it holds the lease: it stays connected, so the server's timer expires it.
  const hung = runExample('mutex/worker.ts', ['10', 'hang'])
  await hung.waitForLine(/^acquired token 2$/)
  const next = runExample('mutex/worker.ts', ['10'])
  expect((await next.exited).code).toBe(0)
  expect(next.lines).toEqual(['acquired token 3', 'released token 3'])
  await server.waitForLine(/^lease 2 expired: its holder stopped renewing$/)
  expect((await hung.exited).code).toBe(0)
  expect(hung.lines).toEqual(['acquired token 2', 'token 2 is stale: the lease expired while this process hung'])
})
