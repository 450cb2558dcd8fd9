// The worker-threads example run as its README says: the exact total its main thread prints.
import { afterEach, expect, it } from 'vitest'
import { runExample, stopExamples } from '../support/run-example.js'

afterEach(stopExamples)

it('adds up the calls of worker threads that reach the server over message ports, each applied once', async () => {
  const main = runExample('worker-threads/main.ts', ['5', '200'])
  const { code, stderr } = await main.exited
  expect(stderr).toBe('')
  expect(code).toBe(0)
  // Worker n adds n, 200 times: 200 × (1 + 2 + 3 + 4 + 5).
  expect(main.lines).toEqual(['5 workers, 200 calls each: total 3000'])
})
