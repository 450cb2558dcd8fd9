import { afterEach, expect, it } from 'vitest'
import { runExample, stopExamples } from '../support/run-example.js'

afterEach(stopExamples)

it('elects one leader, and another once the leader is killed', async () => {
  const server = runExample('leader-election/server.ts')
  await server.waitForLine(/^listening at /)
  const ada = runExample('leader-election/candidate.ts', ['ada'])
  await ada.waitForLine(/^ada leads \(term 1\)$/)
  const [bob, cy] = [runExample('leader-election/candidate.ts', ['bob']), runExample('leader-election/candidate.ts', ['cy'])]
  await Promise.all([bob.waitForLine(/^bob follows ada \(term 1\)$/), cy.waitForLine(/^cy follows ada \(term 1\)$/)])
  ada.child.kill('SIGKILL')
  // One of the two wins term 2, the other follows it.
  const winner = await Promise.race([bob.waitForLine(/leads \(term 2\)$/), cy.waitForLine(/leads \(term 2\)$/)])
  const [name, other] = winner.startsWith('bob') ? ['bob', cy] : ['cy', bob]
  await other.waitForLine(new RegExp(`follows ${name} \\(term 2\\)$`))
  expect([...bob.lines, ...cy.lines].filter((line) => line.includes('leads'))).toEqual([`${name} leads (term 2)`])
})
