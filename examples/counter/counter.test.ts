import { afterEach, expect, it } from 'vitest'
import { runExample, stopExamples } from '../support/run-example.js'

afterEach(stopExamples)

it('counts the increments of clients in separate processes', async () => {
  const server = runExample('counter/server.ts')
  await server.waitForLine(/^listening at /)
  const first = runExample('counter/client.ts', ['3'])
  expect((await first.exited).code).toBe(0)
  expect(first.lines).toEqual(['counter: 3'])
  const [second, third] = [runExample('counter/client.ts', ['2']), runExample('counter/client.ts', ['2'])]
  await Promise.all([second.exited, third.exited])
  // Both clients ran at once: whichever ended last saw all seven increments.
  expect([...second.lines, ...third.lines].sort().at(-1)).toBe('counter: 7')
})
