import { afterEach, expect, it } from 'vitest'
import { runExample, stopExamples } from '../support/run-example.js'

afterEach(stopExamples)

it('shows members joining, closing and dying, each once', async () => {
  const server = runExample('presence/server.ts')
  await server.waitForLine(/^listening at /)
  const watcher = runExample('presence/watch.ts')
  await watcher.waitForLine(/^watching: nobody online$/)
  const ada = runExample('presence/member.ts', ['ada'])
  await watcher.waitForLine(/^\+ ada$/)
  const bob = runExample('presence/member.ts', ['bob', '0'])
  expect((await bob.exited).code).toBe(0)
  await watcher.waitForLine(/^- bob \(closed\)$/)
  ada.child.kill('SIGKILL')
  await watcher.waitForLine(/^- ada \(lost\)$/)
  // A name that is a prototype key is a name like any other.
  const proto = runExample('presence/member.ts', ['__proto__', '0'])
  expect((await proto.exited).code).toBe(0)
  await watcher.waitForLine(/^- __proto__ \(closed\)$/)
  expect(watcher.lines).toEqual([
    'watching: nobody online',
    '+ ada',
    '+ bob',
    '- bob (closed)',
    '- ada (lost)',
    '+ __proto__',
    '- __proto__ (closed)',
  ])
})
